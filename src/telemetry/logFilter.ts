import { streamJsonLine, type StreamJsonContext } from './streamJsonLine.js';

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
export const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

export interface LogRecord {
  time?: number;
  level?: number | string;
  msg?: string;
  agent?: string;
  task_id?: string;
  trace_id?: string;
  [k: string]: unknown;
}

export interface LogQuery {
  /** Only records at or after this epoch ms. */
  since?: number | undefined;
  /** Minimum level (pino number). */
  minLevel?: number | undefined;
  /** The correlation id is the trace id. */
  traceId?: string | undefined;
  taskId?: string | undefined;
}

export function levelNumber(l: unknown): number {
  if (typeof l === 'number') return l;
  if (typeof l === 'string') return LEVELS[l.toLowerCase()] ?? 30;
  return 30;
}

/** Parses `--level warn` (name or number). Returns undefined when invalid. */
export function parseLevel(s: string): number | undefined {
  if (/^\d+$/.test(s)) return Number(s);
  return LEVELS[s.toLowerCase()];
}

/** Parses `--since 10m` (s, m, h, d) or an ISO date into epoch ms. Returns undefined when invalid. */
export function parseSince(s: string, now = Date.now()): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(s.trim());
  if (m) return now - Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

export function matches(rec: LogRecord, q: LogQuery): boolean {
  if (q.since !== undefined && (typeof rec.time !== 'number' || rec.time < q.since)) return false;
  if (q.minLevel !== undefined && levelNumber(rec.level) < q.minLevel) return false;
  if (q.traceId !== undefined && rec.trace_id !== q.traceId && rec.correlation_id !== q.traceId) return false;
  if (q.taskId !== undefined && rec.task_id !== q.taskId) return false;
  return true;
}

/**
 * One readable line: `10:42:07.123 WARN  qaa-1  task T1 failed  [task=T1 trace=4bf92f35]`.
 * A record without `msg` that is a claude stream-json event (a per_task run's
 * stdout) is rendered by {@link streamJsonLine}: `tool: Read note.txt`,
 * `result: success, 4 turns, $0.0875, 48 s`. A per_task run's replica is its
 * slot index, shown like a service replica: `deva_ts-0`. Pass one `ctx` when
 * rendering many records in order (tool paths then show relative to the session's cwd).
 */
export function formatRecord(rec: LogRecord, stream: string, ctx?: StreamJsonContext): string {
  const t = typeof rec.time === 'number' ? new Date(rec.time).toISOString().slice(11, 23) : '--:--:--.---';
  const lvl = (LEVEL_NAMES[levelNumber(rec.level)] ?? 'INFO').padEnd(5);
  const ids = [rec.task_id ? `task=${rec.task_id}` : '', rec.trace_id ? `trace=${String(rec.trace_id).slice(0, 8)}` : ''].filter(Boolean).join(' ');
  return `${t} ${lvl} ${recordWho(rec, stream).padEnd(14)} ${recordMessage(rec, ctx)}${ids ? `  [${ids}]` : ''}`;
}

/** Who wrote a record: its replica (`qaa-1`; a per_task run's slot index as `deva_ts-0`), else its agent, else the stream. */
export function recordWho(rec: LogRecord, stream: string): string {
  const slotIndex = typeof rec.replica === 'string' && /^\d+$/.test(rec.replica) && typeof rec.agent === 'string';
  return slotIndex ? `${String(rec.agent)}-${String(rec.replica)}` : String(rec.replica ?? rec.agent ?? stream);
}

/** A record's message: its `msg`, or a stream-json event rendered by {@link streamJsonLine}. */
export function recordMessage(rec: LogRecord, ctx?: StreamJsonContext): string {
  return typeof rec.msg === 'string' ? rec.msg : (streamJsonLine(rec, ctx) ?? (rec.msg === undefined ? '' : String(rec.msg)));
}
