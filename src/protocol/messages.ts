/**
 * Agent protocol v1: newline-delimited JSON over a channel the agent inherits.
 * The spec is docs/protocol.md; this file is its executable form, shared by the
 * Node SDK and the supervisor.
 */
import { z } from 'zod';
import { METRICS_LIMITS as L, METRICS_PAYLOAD_VERSION } from './metricsPayload.js';

export const PROTOCOL_VERSION = 1;

/** Environment variables the supervisor sets for every agent. */
export const ENV = {
  /** File descriptor number of the duplex channel (a UNIX socketpair), e.g. "3". */
  PROTOCOL_FD: 'AGENTIC_PROTOCOL_FD',
  PROTOCOL_VERSION: 'AGENTIC_PROTOCOL_VERSION',
  AGENT_NAME: 'AGENTIC_AGENT_NAME',
  AGENT_ID: 'AGENTIC_AGENT_ID',
  AGENT_ROLE: 'AGENTIC_AGENT_ROLE',
  TASK_ID: 'AGENTIC_TASK_ID',
  /** per_task: the 1-based attempt of the task this process serves (delivery is at least once). */
  TASK_ATTEMPT: 'AGENTIC_TASK_ATTEMPT',
  TRACEPARENT: 'TRACEPARENT',
} as const;

const taskId = z.string().min(1).max(200);
const durationMs = z.number().finite().nonnegative();

// ---- agent -> supervisor -------------------------------------------------
export const helloMsg = z.object({
  type: z.literal('hello'),
  protocol: z.number().int().positive(),
  pid: z.number().int().positive(),
  sdk: z.object({ name: z.string(), version: z.string() }).optional(),
  capabilities: z.array(z.string()).default([]),
});
export const heartbeatMsg = z.object({
  type: z.literal('heartbeat'),
  /** Optional runtime figures the SDK reports (bytes / milliseconds). */
  heap_used_bytes: z.number().nonnegative().optional(),
  heap_after_gc_bytes: z.number().nonnegative().optional(),
  event_loop_lag_ms: z.number().nonnegative().optional(),
});
export const pongMsg = z.object({ type: z.literal('pong'), id: z.number().int() });
export const taskStartedMsg = z.object({
  type: z.literal('task.started'),
  task_id: taskId,
  /** Set when the agent reports work it started itself (`track()`), not an assigned task. */
  name: z.string().optional(),
  correlation_id: z.string().optional(),
});
export const taskProgressMsg = z.object({
  type: z.literal('task.progress'),
  task_id: taskId,
  /** 0..1 when known. */
  progress: z.number().min(0).max(1).optional(),
  message: z.string().max(4096).optional(),
});
/**
 * One step of the agent's own work on a task (a tool call, an action), reported after it
 * returned, so the supervisor's tool-loop detection (`llm_progress`) works for agents that
 * are not Claude CLI runs: the same `name` with the same input digest answered with the
 * same output digest `max_repeats` times within the window is a loop. Digests are the
 * agent's (the SDKs hash canonical JSON with SHA-256); only their equality matters.
 * Sent only when `welcome.settings.task_steps` is true.
 */
export const taskStepMsg = z.object({
  type: z.literal('task.step'),
  task_id: taskId,
  /** The tool or action, e.g. "read_file". */
  name: z.string().min(1).max(200),
  /** A short human form of the input for diagnoses ("note.txt"). */
  summary: z.string().max(200).optional(),
  /** Identifies the step's input: the same input, the same digest. */
  input_digest: z.string().min(1).max(128),
  /** Identifies the step's result: a step that learned something has a new one. */
  output_digest: z.string().min(1).max(128),
});
export const taskFinishedMsg = z.object({
  type: z.literal('task.finished'),
  task_id: taskId,
  duration_ms: durationMs,
  result: z.unknown().optional(),
});
export const taskFailedMsg = z.object({
  type: z.literal('task.failed'),
  task_id: taskId,
  duration_ms: durationMs,
  error: z.object({ message: z.string(), code: z.string().optional() }),
  /** false: the failure is permanent, do not retry. Default true. */
  retryable: z.boolean().default(true),
});
export const checkpointMsg = z.object({ type: z.literal('checkpoint'), state: z.unknown() });
export const connectivityMsg = z.object({
  type: z.literal('connectivity'),
  target: z.string().min(1).max(500),
  ok: z.boolean(),
  latency_ms: z.number().nonnegative().optional(),
  error: z.string().optional(),
});

// `metrics`: the agent's own OTel metrics, in the shape of metricsPayload.ts (v1).
const attributes = z
  .record(z.string().min(1).max(L.attributeKeyChars), z.string().max(L.attributeValueChars))
  .refine((a) => Object.keys(a).length <= L.attributes, `at most ${L.attributes} attributes per point`)
  .meta({ maxProperties: L.attributes })
  .optional();
const count = z.number().int().nonnegative();
const numberPoint = z.object({ attributes, value: z.number() });
const histogramPoint = z
  .object({
    attributes,
    count,
    sum: z.number(),
    buckets: z.object({ boundaries: z.array(z.number()).max(L.boundaries), counts: z.array(count) }),
  })
  .superRefine((p, ctx) => {
    const { boundaries, counts } = p.buckets;
    if (counts.length !== boundaries.length + 1) ctx.addIssue({ code: 'custom', path: ['buckets', 'counts'], message: 'expected one more count than boundaries' });
    if (boundaries.some((b, i) => i > 0 && b <= (boundaries[i - 1] as number))) ctx.addIssue({ code: 'custom', path: ['buckets', 'boundaries'], message: 'expected increasing boundaries' });
    if (counts.reduce((a, b) => a + b, 0) !== p.count) ctx.addIssue({ code: 'custom', path: ['count'], message: 'expected the sum of the bucket counts' });
  });
const metricBase = { name: z.string().min(1).max(L.nameChars), description: z.string().max(L.descriptionChars).optional(), unit: z.string().max(L.unitChars).optional() };
export const metricSchema = z.discriminatedUnion('kind', [
  z.object({ ...metricBase, kind: z.literal('counter'), points: z.array(numberPoint.extend({ value: z.number().nonnegative() })) }),
  z.object({ ...metricBase, kind: z.literal('gauge'), points: z.array(numberPoint) }),
  z.object({ ...metricBase, kind: z.literal('histogram'), points: z.array(histogramPoint) }),
]);
export const resourceMetricsSchema = z.object({
  version: z.literal(METRICS_PAYLOAD_VERSION),
  scope_metrics: z.array(z.object({ scope: z.object({ name: z.string(), version: z.string().optional() }).optional(), metrics: z.array(metricSchema) })),
  dropped_series: count.optional(),
});
export const metricsMsg = z.object({ type: z.literal('metrics'), resource_metrics: resourceMetricsSchema });
export const logMsg = z.object({
  type: z.literal('log'),
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  msg: z.string(),
  fields: z.record(z.string(), z.unknown()).optional(),
});

export const agentMessage = z.discriminatedUnion('type', [
  helloMsg,
  heartbeatMsg,
  pongMsg,
  taskStartedMsg,
  taskProgressMsg,
  taskStepMsg,
  taskFinishedMsg,
  taskFailedMsg,
  checkpointMsg,
  connectivityMsg,
  metricsMsg,
  logMsg,
]);
export type AgentMessage = z.output<typeof agentMessage>;
export type AgentMessageInput = z.input<typeof agentMessage>;

// ---- supervisor -> agent -------------------------------------------------
// The supervisor builds these itself; the schemas are the spec's executable form
// (protocol/schema/*.json is generated from them) and the conformance kit's check.
export const taskPayloadSchema = z.object({
  id: taskId,
  role: z.string(),
  title: z.string(),
  prompt: z.string().optional(),
  payload: z.unknown().optional(),
  priority: z.number().int(),
  /** 1-based delivery number of this task (delivery is at least once). */
  attempt: z.number().int().positive(),
});
export type TaskPayload = z.output<typeof taskPayloadSchema>;

export const welcomeMsg = z.object({
  type: z.literal('welcome'),
  protocol: z.number().int().positive(),
  agent: z.object({ name: z.string(), id: z.string(), role: z.string(), replica: z.number().int().nonnegative() }),
  /** The last checkpoint this agent stored, or null. */
  checkpoint: z.unknown(),
  /** `max_line_bytes` (since the metrics message) lets the agent keep its lines under the limit. */
  settings: z.object({
    heartbeat_interval_ms: z.number().int().positive(),
    max_checkpoint_bytes: z.number().int().positive(),
    max_line_bytes: z.number().int().positive().optional(),
    /** true: the supervisor watches `task.step` messages for tool loops (`llm_progress` is on); send them. */
    task_steps: z.boolean().optional(),
  }),
});
export const taskAssignMsg = z.object({
  type: z.literal('task.assign'),
  task: taskPayloadSchema,
  /** The task's trace id (32 hex digits): echo it in `task.started`. */
  correlation_id: z.string(),
  traceparent: z.string().optional(),
});
export const taskCancelMsg = z.object({ type: z.literal('task.cancel'), task_id: taskId, reason: z.string() });
export const pingMsg = z.object({ type: z.literal('ping'), id: z.number().int() });
export const shutdownMsg = z.object({ type: z.literal('shutdown'), deadline_ms: z.number().int().nonnegative(), reason: z.string() });

export const supervisorMessage = z.discriminatedUnion('type', [welcomeMsg, taskAssignMsg, taskCancelMsg, pingMsg, shutdownMsg]);
export type SupervisorMessage = z.output<typeof supervisorMessage>;

export const supervisorMessageTypes = ['welcome', 'task.assign', 'task.cancel', 'ping', 'shutdown'] as const;
