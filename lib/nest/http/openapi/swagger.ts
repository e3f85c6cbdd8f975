/**
 * OpenAPI metadata without a hard dependency on @nestjs/swagger: each helper
 * applies the Swagger decorator of the same role when the app has
 * @nestjs/swagger installed, and does nothing when it has not, so the routes
 * and DTOs load and work either way. Swagger is looked up once, when the
 * first decorated class loads.
 */

import { GoTickConfigError } from '../../../common/errors';

type AnyDecorator = ClassDecorator & MethodDecorator & PropertyDecorator;
/** Options passed on to the Swagger decorator as they are (typed loosely so our .d.ts never names @nestjs/swagger). */
export type DocOptions = Record<string, unknown>;

type Swagger = Record<string, (...args: unknown[]) => AnyDecorator>;

let swagger: Swagger | null | undefined;

function loadSwagger(): Swagger | null {
  if (swagger !== undefined) return swagger;
  try {
    swagger = require('@nestjs/swagger') as Swagger;
  } catch (err) {
    // Only "not installed" means no docs; a Swagger that is there but broken must say so.
    const { code, message } = err as { code?: string; message?: string };
    if (code === 'ERR_REQUIRE_ESM') {
      throw new GoTickConfigError('@nestjs/swagger is installed but this Node cannot load it (it ships ES modules only; Node 20.19+ or 22.12+ can): upgrade Node.');
    }
    if (code !== 'MODULE_NOT_FOUND' || !String(message).includes('@nestjs/swagger')) throw err;
    swagger = null;
  }
  return swagger;
}

const nothing: AnyDecorator = () => undefined;

function apply(name: string, ...args: unknown[]): AnyDecorator {
  const found = loadSwagger();
  return found ? found[name](...args) : nothing;
}

export const DocProperty = (options: DocOptions = {}): PropertyDecorator => apply('ApiProperty', options);
export const DocOptional = (options: DocOptions = {}): PropertyDecorator => apply('ApiPropertyOptional', options);
export const DocOperation = (options: DocOptions): MethodDecorator => apply('ApiOperation', options);
export const DocResponse = (options: DocOptions): MethodDecorator & ClassDecorator => apply('ApiResponse', options);
export const DocParam = (options: DocOptions): MethodDecorator => apply('ApiParam', options);
export const DocBody = (options: DocOptions): MethodDecorator => apply('ApiBody', options);
export const DocTags = (...tags: string[]): ClassDecorator => apply('ApiTags', ...tags);
export const DocBearer = (name?: string): ClassDecorator => apply('ApiBearerAuth', ...(name ? [name] : []));
export const DocProduces = (...types: string[]): MethodDecorator => apply('ApiProduces', ...types);
export const DocExclude = (): ClassDecorator => apply('ApiExcludeController');
export const DocExtraModels = (...models: Function[]): ClassDecorator => apply('ApiExtraModels', ...models);

/** Any JSON value (OpenAPI's empty schema would read as "object" once Swagger applies the reflected type). */
export const ANY_JSON: DocOptions = {
  oneOf: [{ type: 'object', additionalProperties: true }, { type: 'array', items: {} }, { type: 'string' }, { type: 'number' }, { type: 'boolean' }],
  nullable: true,
};

/** A Duration: milliseconds, or a string like '30s'. */
export const DURATION: DocOptions = {
  oneOf: [{ type: 'number', minimum: 0 }, { type: 'string' }],
  description: "Milliseconds, or a duration string like '30s', '5m', '2h', '7d'.",
  example: '30s',
};
