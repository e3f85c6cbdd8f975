/** Unit specs live beside the code (lib/**, sample-app/**), end-to-end specs in test/. */
const swc = (syntax) => [
  '@swc/jest',
  {
    jsc: {
      parser: syntax === 'typescript' ? { syntax, decorators: true } : { syntax },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

/**
 * Packages that ship ES modules only (Nest 12's generation): jest's module system cannot require them
 * below Node 24.9, so they are compiled to CommonJS like our own sources. Node itself loads them as they are.
 */
const ESM_ONLY = ['@nestjs/bullmq', '@nestjs/bull-shared', '@nestjs/terminus'];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/lib', '<rootDir>/test', '<rootDir>/sample-app'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': swc('typescript'),
    '^.+\\.js$': swc('ecmascript'),
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.map((name) => name.replace('/', '\\/')).join('|')})/)`],
  // The sample app imports the library by its package name, as a user would.
  moduleNameMapper: { '^nestjs-gotick$': '<rootDir>/lib/index.ts', '^nestjs-gotick/testing$': '<rootDir>/lib/testing/index.ts' },
  testTimeout: 60000,
};
