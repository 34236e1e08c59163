/**
 * The agent-side Node SDK (`agentic-scrum-background/agent`). Usage: docs/protocol.md, "Node SDK".
 */
export { connect, type ConnectOptions } from './connect.js';
export { Agent, type AgentIdentity } from './Agent.js';
export { AgentSdkError, CheckpointTooLargeError, PermanentTaskError, type AgentErrorCode } from './errors.js';
export type { AssignedTask, TaskHandler } from './TaskRunner.js';
export type { TaskContext } from './runWork.js';
export type { ShutdownHook, ShutdownInfo } from './ShutdownHooks.js';
export type { ProbeResult } from './probe.js';
export type { Logger, LogLevel } from './logger.js';
export { SDK_NAME, SDK_VERSION } from './version.js';
