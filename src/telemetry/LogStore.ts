import path from 'node:path';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import type { BackgroundConfig } from '../config/schema.js';
import { agentRecord, type LineContext } from './agentRecord.js';
import { MAX_LOG_LINE_CHARS } from './shrinkRecord.js';

type LoggingConfig = BackgroundConfig['logging'];

/**
 * Above this many bytes per stream, waiting to be written (queued here and in the
 * stream's own buffer), we drop lines (and count them) rather than grow memory.
 */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/**
 * Largest chunk handed to the stream in one write: an eighth of `max_file_size_mb`,
 * within these bounds. rotating-file-stream checks the size after each chunk, so
 * the live file can pass `max_file_size_mb` by up to one chunk. It also writes
 * each chunk with its own awaited file write, one event-loop turn or more each,
 * so under a flood the chunks must be large for the disk to keep up with the
 * lines read (a 64 KiB cap stored about 35,000 lines/s, see docs/benchmarks.md).
 */
const MIN_CHUNK_BYTES = 4 * 1024;
const MAX_CHUNK_BYTES = 1024 * 1024;

export type { LineContext } from './agentRecord.js';

/** Lines of one stream written and dropped since the store was created. */
export interface StreamCounts {
  /** Lines that reached the stream's file. */
  written: number;
  /** Lines dropped: over the buffer cap, written after close, or lost to a write error. */
  dropped: number;
}

/** One stream and the lines waiting for it. */
interface Lane {
  readonly name: string;
  readonly s: RotatingFileStream;
  readonly chunkBytes: number;
  /** Lines of this event-loop turn (or of the write still in flight), in order, joined into one chunk by `drain`. */
  pending: string[];
  /** Their size in UTF-16 code units: bytes for ASCII, an approximation otherwise. */
  pendingBytes: number;
  /** Chunks handed to the stream and not yet written. */
  inFlight: number;
  readonly counts: StreamCounts;
}

/**
 * The central log store: one rotating JSON-lines file per agent plus the
 * supervisor's own (`supervisor.log`) under `<state_dir>/logs/`. Rotation by size
 * and by age, with a maximum file count and a maximum total size per stream, so
 * disk use stays bounded even when an agent spams output.
 * Rotated files are named `<name>.<YYYYMMDD-HHMMSS>-<n>.log`.
 *
 * Lines given to {@link write} are not written one by one: rotating-file-stream
 * does one awaited file write per chunk, so each stream's lines are queued and
 * joined into one chunk (up to an eighth of a file) per event-loop turn, and while
 * a chunk is being written the next lines wait and go together in the next. Order
 * is kept per stream. When a stream's queued and buffered bytes pass
 * {@link MAX_BUFFERED_BYTES}, new lines are dropped and counted ({@link counts}).
 * {@link close} writes what is queued before it closes the files.
 */
export class LogStore {
  private readonly lanes = new Map<string, Lane>();
  private readonly dirty = new Set<Lane>();
  private flushTimer: NodeJS.Immediate | undefined;
  /** Long agent lines waiting to be parsed (see {@link agentLine}). */
  private readonly deferred = new Set<() => void>();
  private closed = false;
  /** Lines dropped by streams closed or never opened (after {@link close}). */
  private readonly lateDrops = new Map<string, number>();

  /**
   * @param expectedStreams how many streams share `max_total_size_mb` (agents + the
   * supervisor); each stream gets an equal share, and never less than two files.
   */
  constructor(readonly dir: string, private readonly cfg: LoggingConfig, private readonly expectedStreams = 1) {}

  /** Lines dropped, all streams together. */
  get dropped(): number {
    let n = 0;
    for (const c of this.counts().values()) n += c.dropped;
    return n;
  }

  /** Lines written to files, all streams together (the supervisor's own lines, written by its logger directly, are not counted). */
  get linesWritten(): number {
    let n = 0;
    for (const c of this.counts().values()) n += c.written;
    return n;
  }

  /** Running totals by stream name (an agent's name, or `supervisor`); they only grow. */
  counts(): Map<string, StreamCounts> {
    const out = new Map<string, StreamCounts>();
    for (const [name, lane] of this.lanes) out.set(name, { ...lane.counts });
    for (const [name, n] of this.lateDrops) {
      const c = out.get(name) ?? { written: 0, dropped: 0 };
      out.set(name, { written: c.written, dropped: c.dropped + n });
    }
    return out;
  }

  /**
   * The rotating stream for `name` (created on first use). The supervisor's logger
   * writes to it directly; agents' lines go through {@link write}.
   */
  stream(name: string): RotatingFileStream {
    return this.lane(name).s;
  }

  private lane(name: string): Lane {
    let lane = this.lanes.get(name);
    if (!lane) {
      const perStreamTotal = Math.max(this.cfg.max_file_size_mb * 2, this.cfg.max_total_size_mb / Math.max(1, this.expectedStreams, this.lanes.size + 1));
      const sizeK = Math.max(1, Math.round(this.cfg.max_file_size_mb * 1024));
      const s = createStream(
        (time: number | Date | null, index?: number) => {
          if (!time) return `${name}.log`;
          const d = typeof time === 'number' ? new Date(time) : time;
          const stamp = d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
          return `${name}.${stamp}-${index ?? 1}.log`;
        },
        {
          path: this.dir,
          size: `${sizeK}K`,
          interval: `${Math.max(1, Math.round(this.cfg.max_age_days))}d`,
          maxFiles: this.cfg.max_files,
          maxSize: `${Math.max(1, Math.round(perStreamTotal * 1024))}K`,
          history: `.${name}.history`,
        },
      );
      // A failed write is counted by its callback (the lines of its chunk); the
      // stream is then destroyed and later writes fail (and are counted) too.
      s.on('error', () => undefined);
      lane = { name, s, chunkBytes: Math.min(MAX_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, Math.floor((sizeK * 1024) / 8))), pending: [], pendingBytes: 0, inFlight: 0, counts: { written: 0, dropped: 0 } };
      this.lanes.set(name, lane);
    }
    return lane;
  }

  /**
   * Stores one line of an agent's stdout or stderr as a record (see {@link agentRecord}).
   * A line over {@link MAX_LOG_LINE_CHARS} (a 16 MB claude result) is parsed and cut
   * on a later event-loop turn, so that its parse does not add to the time the
   * adapter's own parse of it holds the loop; its `time` is when it arrived, and
   * {@link close} stores it if it is still waiting.
   */
  agentLine(ctx: LineContext, stream: 'stdout' | 'stderr', rawLine: string): void {
    if (rawLine.length <= MAX_LOG_LINE_CHARS) {
      this.write(ctx.agent, agentRecord(ctx, stream, rawLine));
      return;
    }
    const time = Date.now();
    const job = () => {
      if (this.deferred.delete(job)) this.write(ctx.agent, agentRecord(ctx, stream, rawLine, time));
    };
    this.deferred.add(job);
    setImmediate(job);
  }

  /** Queues one record for `name`'s file; it is written with the others of this event-loop turn. */
  write(name: string, record: Record<string, unknown>): void {
    if (this.closed) {
      this.lateDrops.set(name, (this.lateDrops.get(name) ?? 0) + 1);
      return;
    }
    const lane = this.lane(name);
    if (lane.s.destroyed || lane.s.writableLength + lane.pendingBytes > MAX_BUFFERED_BYTES) {
      lane.counts.dropped++;
      return;
    }
    const line = `${JSON.stringify(record)}\n`;
    lane.pending.push(line);
    lane.pendingBytes += line.length;
    this.dirty.add(lane);
    this.flushTimer ??= setImmediate(this.flushDirty);
  }

  private readonly flushDirty = (): void => {
    this.flushTimer = undefined;
    for (const lane of this.dirty) {
      // A lane with a chunk still in flight is drained when that chunk is written.
      if (lane.inFlight === 0) this.drain(lane);
    }
    this.dirty.clear();
  };

  /** Hands a lane's queued lines to its stream, joined into chunks of at most `chunkBytes`. */
  private drain(lane: Lane): void {
    const lines = lane.pending;
    if (!lines.length) return;
    lane.pending = [];
    lane.pendingBytes = 0;
    let start = 0;
    let size = 0;
    for (let i = 0; i < lines.length; i++) {
      const n = (lines[i] as string).length;
      if (size > 0 && size + n > lane.chunkBytes) {
        this.put(lane, lines, start, i);
        start = i;
        size = 0;
      }
      size += n;
    }
    this.put(lane, lines, start, lines.length);
  }

  private put(lane: Lane, lines: string[], from: number, to: number): void {
    const n = to - from;
    lane.inFlight++;
    lane.s.write(n === 1 ? (lines[from] as string) : lines.slice(from, to).join(''), (err) => {
      lane.inFlight--;
      if (err) lane.counts.dropped += n;
      else lane.counts.written += n;
      if (lane.inFlight === 0 && lane.pending.length) {
        if (this.closed) this.drain(lane);
        else {
          this.dirty.add(lane);
          this.flushTimer ??= setImmediate(this.flushDirty);
        }
      }
    });
  }

  file(name: string): string {
    return path.join(this.dir, `${name}.log`);
  }

  /** Writes every queued line, then closes the files. Lines written after this are dropped (and counted). */
  async close(): Promise<void> {
    for (const job of [...this.deferred]) job();
    this.closed = true;
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    this.dirty.clear();
    const lanes = [...this.lanes.values()];
    for (const lane of lanes) this.drain(lane);
    await Promise.all(lanes.map((l) => new Promise<void>((resolve) => { l.s.end(() => resolve()); })));
  }
}
