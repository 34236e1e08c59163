/**
 * Parsing of supervisor → agent lines. Hand-written rather than zod so that an
 * agent's start does not pay for loading a schema library (about 100 ms).
 */
import type { SupervisorMessage, TaskPayload } from '../protocol/messages.js';

/** Defaults the SDK assumes when a welcome omits a setting (they match the config defaults). */
export const DEFAULT_SETTINGS = { heartbeat_interval_ms: 5000, max_checkpoint_bytes: 256 * 1024, max_line_bytes: 1024 * 1024 } as const;

/** A welcome after defaults were applied; the agent fields may be missing. */
export interface Welcome {
  type: 'welcome';
  protocol: number;
  agent: { name?: string; id?: string; role?: string; replica?: number };
  checkpoint: unknown;
  /**
   * `max_line_bytes`: the longest line the supervisor reads (its `protocol.max_line_bytes`);
   * `task_steps`: it watches `task.step` for tool loops (false when a supervisor does not say).
   */
  settings: { heartbeat_interval_ms: number; max_checkpoint_bytes: number; max_line_bytes: number; task_steps: boolean };
}

export type IncomingMessage = Welcome | Exclude<SupervisorMessage, { type: 'welcome' }>;

export type ParseResult = { ok: true; message: IncomingMessage } | { ok: false; reason: 'not_json' | 'not_object' | 'invalid' };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const pos = (v: unknown): number | undefined => ((num(v) ?? 0) > 0 ? (v as number) : undefined);

/** Parses one supervisor line. Never throws; unknown fields are dropped, unknown types are `invalid`. */
export function parseSupervisorLine(line: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  if (!isObj(value)) return { ok: false, reason: 'not_object' };
  const message = toMessage(value);
  return message ? { ok: true, message } : { ok: false, reason: 'invalid' };
}

function toMessage(v: Obj): IncomingMessage | undefined {
  switch (v.type) {
    case 'ping':
      return Number.isInteger(v.id) ? { type: 'ping', id: v.id as number } : undefined;
    case 'shutdown': {
      const deadline = num(v.deadline_ms);
      return deadline !== undefined && deadline >= 0 ? { type: 'shutdown', deadline_ms: deadline, reason: str(v.reason) ?? 'shutdown' } : undefined;
    }
    case 'task.cancel':
      return str(v.task_id) ? { type: 'task.cancel', task_id: v.task_id as string, reason: str(v.reason) ?? 'cancelled' } : undefined;
    case 'task.assign': {
      const task = toTask(v.task);
      return task ? { type: 'task.assign', task, correlation_id: str(v.correlation_id) ?? '', traceparent: str(v.traceparent) } : undefined;
    }
    case 'welcome':
      return toWelcome(v);
    default:
      return undefined;
  }
}

function toTask(v: unknown): TaskPayload | undefined {
  if (!isObj(v)) return undefined;
  const id = str(v.id);
  if (!id || id.length > 200) return undefined;
  return {
    id,
    role: str(v.role) ?? '',
    title: str(v.title) ?? '',
    prompt: str(v.prompt),
    payload: v.payload,
    priority: num(v.priority) ?? 5,
    attempt: Number.isInteger(v.attempt) ? (v.attempt as number) : 1,
  };
}

function toWelcome(v: Obj): Welcome {
  const agent = isObj(v.agent) ? v.agent : {};
  const settings = isObj(v.settings) ? v.settings : {};
  const maxBytes = pos(settings.max_checkpoint_bytes);
  const maxLine = pos(settings.max_line_bytes);
  return {
    type: 'welcome',
    protocol: Number.isInteger(v.protocol) ? (v.protocol as number) : 1,
    agent: { name: str(agent.name), id: str(agent.id), role: str(agent.role), replica: Number.isInteger(agent.replica) ? (agent.replica as number) : undefined },
    checkpoint: v.checkpoint === undefined ? null : v.checkpoint,
    settings: {
      heartbeat_interval_ms: pos(settings.heartbeat_interval_ms) ?? DEFAULT_SETTINGS.heartbeat_interval_ms,
      max_checkpoint_bytes: maxBytes !== undefined ? Math.floor(maxBytes) : DEFAULT_SETTINGS.max_checkpoint_bytes,
      max_line_bytes: maxLine !== undefined ? Math.floor(maxLine) : DEFAULT_SETTINGS.max_line_bytes,
      task_steps: settings.task_steps === true,
    },
  };
}
