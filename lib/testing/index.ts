// 'nestjs-gotick/testing': unit-test flows on an in-memory backend with a virtual clock.
export { GoTickTestHarness } from './harness';
export { createTestEngine, type GoTickTestOptions } from './create-test-engine';
export { GoTickTestingModule, type GoTickTestingModuleOptions } from './gotick-testing.module';
export type { StepMock } from './step-mocks';
