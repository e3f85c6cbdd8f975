/** Metadata keys, namespaced so they never meet another library's. */
export const FLOW_METADATA = 'gotick:flow';
export const FLOW_HOOKS_METADATA = 'gotick:flow_hooks';

/** DI token of the GoTickEngine instance the module runs. */
export const GOTICK_ENGINE = Symbol('GOTICK_ENGINE');
/** DI token of the static `http` options (whether and where the REST routes mount). */
export const GOTICK_HTTP_OPTIONS = Symbol('GOTICK_HTTP_OPTIONS');
/** DI token of the resolved module options (forRoot's object, or what forRootAsync's factory returned). */
export const GOTICK_MODULE_OPTIONS = Symbol('GOTICK_MODULE_OPTIONS');
