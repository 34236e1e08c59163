import path from 'node:path';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import type { BackgroundConfig } from '../config/schema.js';
import { redact } from '../supervisor/secrets.js';

type LoggingConfig = BackgroundConfig['logging'];

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
/** Above this many buffered bytes per file we drop lines (and count them) rather than grow memory. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

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
 * The central log store: one rotating JSON-lines file per agent plus the
 * supervisor's own (`supervisor.log`) under `<state_dir>/logs/`. Rotation by size
 * and by age, with a maximum file count and a maximum total size per stream, so
 * disk use stays bounded even when an agent spams output.
 * Rotated files are named `<name>.<YYYYMMDD-HHMMSS>-<n>.log`.
 */
export class LogStore {
  private readonly streams = new Map<string, RotatingFileStream>();
  dropped = 0;
  linesWritten = 0;

  /**
   * @param expectedStreams how many streams share `max_total_size_mb` (agents + the
   * supervisor); each stream gets an equal share, and never less than two files.
   */
  constructor(readonly dir: string, private readonly cfg: LoggingConfig, private readonly expectedStreams = 1) {}

  /** The rotating stream for `name` (created on first use). */
  stream(name: string): RotatingFileStream {
    let s = this.streams.get(name);
    if (!s) {
      const perStreamTotal = Math.max(this.cfg.max_file_size_mb * 2, this.cfg.max_total_size_mb / Math.max(1, this.expectedStreams, this.streams.size + 1));
      s = createStream(
        (time: number | Date | null, index?: number) => {
          if (!time) return `${name}.log`;
          const d = typeof time === 'number' ? new Date(time) : time;
          const stamp = d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
          return `${name}.${stamp}-${index ?? 1}.log`;
        },
        {
          path: this.dir,
          size: `${Math.max(1, Math.round(this.cfg.max_file_size_mb * 1024))}K`,
          interval: `${Math.max(1, Math.round(this.cfg.max_age_days))}d`,
          maxFiles: this.cfg.max_files,
          maxSize: `${Math.max(1, Math.round(perStreamTotal * 1024))}K`,
          history: `.${name}.history`,
        },
      );
      s.on('error', () => { this.dropped++; });
      this.streams.set(name, s);
    }
    return s;
  }

  /** Stores one line of an agent's stdout or stderr: JSON is parsed and enriched, plain text wrapped. */
  agentLine(ctx: LineContext, stream: 'stdout' | 'stderr', rawLine: string): void {
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
    this.write(ctx.agent, out);
  }

  write(name: string, record: Record<string, unknown>): void {
    const s = this.stream(name);
    if (s.writableLength > MAX_BUFFERED_BYTES) {
      this.dropped++;
      return;
    }
    this.linesWritten++;
    s.write(`${JSON.stringify(record)}\n`);
  }

  file(name: string): string {
    return path.join(this.dir, `${name}.log`);
  }

  async close(): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => new Promise<void>((resolve) => { s.end(() => resolve()); })));
    this.streams.clear();
  }
}
