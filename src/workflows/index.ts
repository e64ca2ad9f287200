// Every workflow type the worker runs. Sandboxed: imports only domain code and contracts.
export { applicationWorkflow } from './application/workflow.ts'
export { escalationWorkflow } from './escalation/workflow.ts'
export { calendarPropagationWorkflow } from './calendar-propagation/workflow.ts'
export { complaintWorkflow } from './complaint/workflow.ts'
export { deadlineWatchWorkflow } from './deadline-watch/workflow.ts'
export { fulfilmentWorkflow } from './fulfilment/workflow.ts'
export { campaignWorkflow } from './fulfilment/campaign.ts'
export { monthlyReportWorkflow } from './monthly-report/workflow.ts'
