export { Flow } from './flow.decorator';
export { OnFlowSuccess, OnFlowFail, OnFlowError, OnFlowCancel } from './flow-hooks.decorator';
