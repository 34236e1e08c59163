// The shapes the page reads, imported from the server's own definitions (types only: nothing of the server is bundled).
export type { StatusBody } from '../server/statusBody.js';
export type { UiSnapshot } from '../server/ui/uiSnapshot.js';
export type { AgentHealthJson, FindingJson, HealthReportJson } from '../health/report.js';
export type { AgentStatus, RunStatus } from '../supervisor/statusSnapshot.js';
export type { TaskWithHistory, TaskStatus, AttemptRecord } from '../queue/Task.js';
export type { TaskLogLine } from '../server/taskLogRoute.js';
export type { StreamJsonPart } from '../telemetry/streamJsonLine.js';
export type { EventView } from '../server/eventRoutes.js';
export type { AlertDecision } from '../controller/DecisionStore.js';
export type { LlmReport } from '../store/llmReport.js';
