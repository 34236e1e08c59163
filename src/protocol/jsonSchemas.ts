/**
 * JSON Schemas (draft 2020-12) of every protocol message, generated from the zod
 * schemas in messages.ts that the supervisor validates with, so the two cannot
 * drift. `npm run schemas` writes them to protocol/schema/*.json (published with
 * the package, linked from docs/protocol.md); test/unit/protocol-schemas.test.ts
 * fails when the committed files are stale.
 *
 * Agent → supervisor schemas describe what an agent may send (zod's input side:
 * a field with a default, such as `task.failed.retryable`, is optional). Supervisor
 * → agent schemas describe what the supervisor sends (the output side).
 */
import { z } from 'zod';
import * as m from './messages.js';

/** $id prefix of every generated schema. */
export const SCHEMA_ID_BASE = 'https://agentic-scrum-background/protocol/schema/';

interface Entry {
  schema: z.ZodType;
  io: 'input' | 'output';
  description: string;
}

const agentMessages: Record<string, Entry> = {
  hello: { schema: m.helloMsg, io: 'input', description: 'Agent → supervisor. First message of a process, sent once, before any other.' },
  heartbeat: { schema: m.heartbeatMsg, io: 'input', description: 'Agent → supervisor. Liveness, first within heartbeat_interval_ms of welcome, then every heartbeat_interval_ms.' },
  pong: { schema: m.pongMsg, io: 'input', description: 'Agent → supervisor. Answer to ping, echoing its integer id.' },
  'task.started': { schema: m.taskStartedMsg, io: 'input', description: 'Agent → supervisor. An assigned task began (echo correlation_id), or self-started work (name).' },
  'task.progress': { schema: m.taskProgressMsg, io: 'input', description: 'Agent → supervisor. Progress of a task; resets its stale-task clock.' },
  'task.step': { schema: m.taskStepMsg, io: 'input', description: "Agent → supervisor. One step of the agent's own work on a task (tool, input and output digests), watched for tool loops; sent only when welcome.settings.task_steps is true." },
  'task.finished': { schema: m.taskFinishedMsg, io: 'input', description: 'Agent → supervisor. The task succeeded.' },
  'task.failed': { schema: m.taskFailedMsg, io: 'input', description: 'Agent → supervisor. The task failed; retried unless retryable is false.' },
  checkpoint: { schema: m.checkpointMsg, io: 'input', description: 'Agent → supervisor. State to store durably, returned in the next welcome.' },
  connectivity: { schema: m.connectivityMsg, io: 'input', description: "Agent → supervisor. The agent's own view of a dependency." },
  metrics: { schema: m.metricsMsg, io: 'input', description: "Agent → supervisor. The agent's own metrics, cumulative (payload version 1)." },
  log: { schema: m.logMsg, io: 'input', description: 'Agent → supervisor. A structured log line.' },
};

const supervisorMessages: Record<string, Entry> = {
  welcome: { schema: m.welcomeMsg, io: 'output', description: 'Supervisor → agent. Reply to hello: identity, last checkpoint, settings.' },
  'task.assign': { schema: m.taskAssignMsg, io: 'output', description: 'Supervisor → agent. Run this task (one at a time per process).' },
  'task.cancel': { schema: m.taskCancelMsg, io: 'output', description: 'Supervisor → agent. Stop working on the task; no reply is expected.' },
  ping: { schema: m.pingMsg, io: 'output', description: 'Supervisor → agent. Answer with pong {id} at once.' },
  shutdown: { schema: m.shutdownMsg, io: 'output', description: 'Supervisor → agent. Exit within deadline_ms.' },
};

function generate(name: string, e: Entry): Record<string, unknown> {
  const json = z.toJSONSchema(e.schema, { io: e.io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = json;
  return { $schema, $id: `${SCHEMA_ID_BASE}${name}.json`, title: name, description: e.description, ...rest };
}

/**
 * Every schema, by file name (without `.json`): one per message type, plus
 * `agent-message` and `supervisor-message`, each a `oneOf` of its direction's messages.
 */
export function protocolJsonSchemas(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, e] of Object.entries({ ...agentMessages, ...supervisorMessages })) out[name] = generate(name, e);
  const union = (name: string, names: string[], description: string) => ({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${SCHEMA_ID_BASE}${name}.json`,
    title: name,
    description,
    oneOf: names.map((n) => ({ $ref: `${n}.json` })),
  });
  out['agent-message'] = union('agent-message', Object.keys(agentMessages), `Any agent → supervisor message of protocol v${m.PROTOCOL_VERSION}: one NDJSON line.`);
  out['supervisor-message'] = union('supervisor-message', Object.keys(supervisorMessages), `Any supervisor → agent message of protocol v${m.PROTOCOL_VERSION}: one NDJSON line.`);
  return out;
}

/** The text of each schema file, as `npm run schemas` writes it (2-space JSON and a newline). */
export function protocolSchemaFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, schema] of Object.entries(protocolJsonSchemas())) out[`${name}.json`] = `${JSON.stringify(schema, null, 2)}\n`;
  return out;
}
