import { redact } from '../supervisor/secrets.js';
import { MAX_LOG_LINE_CHARS, cutText, shrinkStrings } from './shrinkRecord.js';
import { isStreamJsonWarning } from './streamJsonLine.js';

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

export interface LineContext {
  agent: string;
  role: string;
  replica?: string | undefined;
  task_id?: string | undefined;
  trace_id?: string | undefined;
  /** Values to redact from the line (the agent's secrets). */
  secrets?: readonly string[] | undefined;
}

/**
 * The log record of one line of an agent's stdout or stderr: a JSON object is
 * kept and enriched with the agent's context, anything else is wrapped as `msg`.
 * Secrets are redacted first. A line over {@link MAX_LOG_LINE_CHARS} keeps its
 * shape with its long strings cut (`… [n chars, cut]`, and `cut_chars` on the
 * record). A claude stream-json error result or failed tool call without a level
 * of its own gets warn.
 */
export function agentRecord(ctx: LineContext, stream: 'stdout' | 'stderr', rawLine: string, now = Date.now()): Record<string, unknown> {
  const line = ctx.secrets?.length ? redact(rawLine, ctx.secrets) : rawLine;
  const long = line.length > MAX_LOG_LINE_CHARS;
  let rec: Record<string, unknown> | undefined;
  if (line.startsWith('{')) {
    try {
      const v: unknown = JSON.parse(line);
      if (v && typeof v === 'object' && !Array.isArray(v)) rec = (long ? shrinkStrings(v) : v) as Record<string, unknown>;
    } catch {
      // not JSON: wrapped below
    }
  }
  const level = (r: Record<string, unknown>) => (typeof r.level === 'string' ? (LEVELS[r.level] ?? 30) : (r.level ?? (isStreamJsonWarning(r) ? 40 : 30)));
  const out: Record<string, unknown> = rec
    ? { ...rec, level: level(rec), time: rec.time ?? now }
    : { level: stream === 'stderr' ? 40 : 30, time: now, msg: long ? cutText(line, MAX_LOG_LINE_CHARS) : line };
  if (long) out.cut_chars = line.length;
  out.agent = ctx.agent;
  out.role = ctx.role;
  if (ctx.replica !== undefined) out.replica = ctx.replica;
  out.stream = stream;
  if (ctx.task_id && out.task_id === undefined) out.task_id = ctx.task_id;
  if (ctx.trace_id && out.trace_id === undefined) out.trace_id = ctx.trace_id;
  return out;
}
