export { Flow } from './flow.decorator';
export { OnFlowSuccess, OnFlowFail, OnFlowError } from './flow-hooks.decorator';
