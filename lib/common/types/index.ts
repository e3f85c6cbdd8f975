/** The public types of GoTick, by concern; import them from 'nestjs-gotick'. */
export * from './run-view';
export * from './steps';
export * from './calls';
export * from './flow-options';
