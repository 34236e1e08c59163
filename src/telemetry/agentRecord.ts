import { redact } from '../supervisor/secrets.js';

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
 * One line of an agent's stdout or stderr as a log record: a JSON object is kept
 * (its level name turned into pino's number) and enriched, plain text is wrapped
 * (`info` for stdout, `warn` for stderr). Secrets are redacted first.
 */
export function agentRecord(ctx: LineContext, stream: 'stdout' | 'stderr', rawLine: string): Record<string, unknown> {
  const line = ctx.secrets?.length ? redact(rawLine, ctx.secrets) : rawLine;
  let rec: Record<string, unknown> | undefined;
  if (line.startsWith('{')) {
    try {
      const v: unknown = JSON.parse(line);
      if (v && typeof v === 'object' && !Array.isArray(v)) rec = v as Record<string, unknown>;
    } catch {
      // not JSON: wrapped below
    }
  }
  const out: Record<string, unknown> = rec
    ? { ...rec, level: typeof rec.level === 'string' ? (LEVELS[rec.level] ?? 30) : (rec.level ?? 30), time: rec.time ?? Date.now() }
    : { level: stream === 'stderr' ? 40 : 30, time: Date.now(), msg: line };
  out.agent = ctx.agent;
  out.role = ctx.role;
  if (ctx.replica !== undefined) out.replica = ctx.replica;
  out.stream = stream;
  if (ctx.task_id && out.task_id === undefined) out.task_id = ctx.task_id;
  if (ctx.trace_id && out.trace_id === undefined) out.trace_id = ctx.trace_id;
  return out;
}
