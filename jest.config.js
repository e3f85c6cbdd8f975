/** Unit specs live beside the code (lib/**, sample-app/**), end-to-end specs in test/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/lib', '<rootDir>/test', '<rootDir>/sample-app'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  // The sample app imports the library by its package name, as a user would.
  moduleNameMapper: { '^nestjs-gotick$': '<rootDir>/lib/index.ts', '^nestjs-gotick/testing$': '<rootDir>/lib/testing/index.ts' },
  testTimeout: 60000,
};
