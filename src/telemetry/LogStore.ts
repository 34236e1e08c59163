import path from 'node:path';
import type { RotatingFileStream } from 'rotating-file-stream';
import type { BackgroundConfig } from '../config/schema.js';
import { agentRecord, type LineContext } from './agentRecord.js';
import { LineBlocks } from './LineBlocks.js';
import { fileBytes, rotatingLogStream } from './rotatingLogStream.js';
import { MAX_LOG_LINE_CHARS } from './shrinkRecord.js';

type LoggingConfig = BackgroundConfig['logging'];

export type { LineContext };

/**
 * Above this many bytes per stream, waiting to be written (queued here and in the
 * stream's own buffer), we drop lines (and count them) rather than grow memory.
 * 1 MiB (was 8 MiB): a stdout flood held up to 8 MiB of queued lines, and their
 * copies, per flooding agent; a disk that keeps up never fills even 1 MiB.
 */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/**
 * Largest chunk handed to the stream in one write: an eighth of `max_file_size_mb`,
 * within these bounds. rotating-file-stream checks the size after each chunk, so
 * the live file can pass `max_file_size_mb` by up to one chunk. It also writes
 * each chunk with its own awaited file write, one event-loop turn or more each,
 * so under a flood the chunks must be large for the disk to keep up with the
 * lines read (a 64 KiB cap stored about 35,000 lines/s, see docs/benchmarks.md).
 */
const MIN_CHUNK_BYTES = 4 * 1024;
const MAX_CHUNK_BYTES = 256 * 1024;
/** The first block of a quiet stream (see {@link LineBlocks}); blocks grow to the chunk size under load. */
const FIRST_BLOCK_BYTES = 4 * 1024;

/** Lines of one stream written and dropped since the store was created. */
export interface StreamCounts {
  /** Lines that reached the stream's file. */
  written: number;
  /** Lines dropped: over the buffer cap, written after close, lost to a write error, or given while the file could not be written. */
  dropped: number;
}

export interface LogStoreOptions {
  /** Told of each write error (a full disk: `ENOSPC`) once per failure of a stream, with the stream's name. */
  onWriteError?: ((err: unknown, name: string) => void) | undefined;
  /** After a write error, how long a stream drops its lines before it tries its file again, in ms (default 5000); {@link LogStore.reopen} tries at once. */
  retryMs?: number | undefined;
  now?: (() => number) | undefined;
}

/** One stream and the lines waiting for it. */
interface Lane {
  readonly name: string;
  /** The file stream; replaced when the lane is reopened after a write error. */
  s: RotatingFileStream;
  /** Set by a write error: lines are dropped (counted, not kept) until the lane is reopened. `told`: onWriteError was called. */
  broken: { at: number; told: boolean } | undefined;
  /**
   * Set by a reopen: the next chunk starts with a newline. A write the full disk
   * cut short leaves a partial line (rotating-file-stream does not retry short
   * writes), and the next line must not be glued to it.
   */
  cut: boolean;
  readonly totalMb: number;
  /** Lines of this event-loop turn (or of the write still in flight), in order, encoded into blocks handed to the stream by `drain`. */
  readonly pending: LineBlocks;
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
 * does one awaited file write per chunk, so each stream's lines are encoded at
 * once into byte blocks ({@link LineBlocks}: reused buffers that grow to an eighth
 * of a file under load) and the blocks are handed over once per event-loop turn;
 * while a block is being written the next lines wait and go together in the next.
 * No line waits as a string, so a flood does not promote dead strings into the old
 * space (docs/benchmarks.md, "Log flood"). Order is kept per stream. When a stream's queued and buffered bytes pass
 * {@link MAX_BUFFERED_BYTES}, new lines are dropped and counted ({@link counts}).
 * {@link close} writes what is queued before it closes the files.
 *
 * A write error (a full disk) never grows memory and never throws at the writer:
 * the lines of the failed chunk are counted as dropped, the stream's queue is
 * dropped, and so is every line given while the stream is broken. The stream is
 * opened again after `retryMs`, or at once by {@link reopen} (called when the disk
 * takes writes again), and writing resumes.
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
  constructor(readonly dir: string, private readonly cfg: LoggingConfig, private readonly expectedStreams = 1, private readonly opts: LogStoreOptions = {}) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Lines dropped, all streams together. */
  get dropped(): number {
    let n = 0;
    for (const c of this.counts().values()) n += c.dropped;
    return n;
  }

  /** Lines written to files, all streams together. */
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
   * The rotating stream for `name` as it is now (created on first use); a new one
   * replaces it after a write error. Write through {@link write}, {@link writeLine} or {@link sink}.
   */
  stream(name: string): RotatingFileStream {
    return this.lane(name).s;
  }

  /**
   * A destination for a logger that writes finished lines (pino): each `write`
   * queues its text like {@link writeLine}. It never throws and never blocks.
   */
  sink(name: string): { write(chunk: string): boolean } {
    return { write: (chunk: string) => { this.writeLine(name, chunk); return true; } };
  }

  private lane(name: string): Lane {
    let lane = this.lanes.get(name);
    if (!lane) {
      const totalMb = Math.max(this.cfg.max_file_size_mb * 2, this.cfg.max_total_size_mb / Math.max(1, this.expectedStreams, this.lanes.size + 1));
      const chunkBytes = Math.min(MAX_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, Math.floor(fileBytes(this.cfg) / 8)));
      const pending = new LineBlocks(FIRST_BLOCK_BYTES, chunkBytes);
      lane = { name, s: rotatingLogStream(this.dir, name, this.cfg, totalMb), broken: undefined, cut: false, totalMb, pending, inFlight: 0, counts: { written: 0, dropped: 0 } };
      this.listen(lane);
      this.lanes.set(name, lane);
    }
    return lane;
  }

  /** Opens a broken lane's file again. */
  private open(lane: Lane): void {
    lane.s = rotatingLogStream(this.dir, lane.name, this.cfg, lane.totalMb);
    lane.broken = undefined;
    lane.cut = true;
    this.listen(lane);
  }

  private listen(lane: Lane): void {
    const s = lane.s;
    // A failed write is counted by its callback (the lines of its chunk); an error
    // outside a write (opening, rotating) breaks the lane here.
    s.on('error', (err) => { if (lane.s === s) this.fail(lane, err); });
  }

  /**
   * A write error (or a stream found destroyed, its error still on the way): the
   * lane drops what it holds and every line until it is reopened. The error is
   * told once per failure.
   */
  private fail(lane: Lane, err: unknown): void {
    if (!lane.broken) {
      lane.broken = { at: this.now(), told: false };
      lane.counts.dropped += lane.pending.clear();
      lane.s.destroy();
    }
    if (err !== undefined && !lane.broken.told) {
      lane.broken.told = true;
      this.opts.onWriteError?.(err, lane.name);
    }
  }

  /** Opens again, at once, every stream broken by a write error (the disk takes writes again). Returns how many. */
  reopen(): number {
    let n = 0;
    for (const lane of this.lanes.values()) {
      if (!lane.broken || this.closed) continue;
      this.open(lane);
      n++;
    }
    return n;
  }

  /** Whether any stream is broken by a write error and dropping its lines. */
  get failing(): boolean {
    for (const lane of this.lanes.values()) if (lane.broken) return true;
    return false;
  }

  /**
   * Stores one line of an agent's stdout or stderr as a record (see {@link agentRecord}):
   * JSON is parsed and enriched, plain text wrapped.
   * A line over {@link MAX_LOG_LINE_CHARS} (a 16 MB claude result) is parsed and cut
   * on a later event-loop turn, so that its parse does not add to the time the
   * adapter's own parse of it holds the loop; its `time` is when it arrived, and
   * {@link close} stores it if it is still waiting.
   */
  agentLine(ctx: LineContext, stream: 'stdout' | 'stderr', rawLine: string): void {
    if (rawLine.length <= MAX_LOG_LINE_CHARS) {
      // A line that would be dropped is not parsed first (a flood, a full disk).
      const lane = this.accepting(ctx.agent);
      if (lane) this.enqueue(lane, JSON.stringify(agentRecord(ctx, stream, rawLine)), true);
      return;
    }
    const time = Date.now();
    const job = () => {
      if (!this.deferred.delete(job)) return;
      const lane = this.accepting(ctx.agent);
      if (lane) this.enqueue(lane, JSON.stringify(agentRecord(ctx, stream, rawLine, time)), true);
    };
    this.deferred.add(job);
    setImmediate(job);
  }

  /** Queues one record for `name`'s file; it is written with the others of this event-loop turn. */
  write(name: string, record: Record<string, unknown>): void {
    const lane = this.accepting(name);
    if (lane) this.enqueue(lane, JSON.stringify(record), true);
  }

  /** Queues finished text (one or more JSON lines, as a logger writes them) for `name`'s file. */
  writeLine(name: string, text: string): void {
    const lane = this.accepting(name);
    if (lane) this.enqueue(lane, text, !text.endsWith('\n'));
  }

  /** The lane that takes a line for `name` now, or undefined when the line is dropped (and counted). */
  private accepting(name: string): Lane | undefined {
    if (this.closed) {
      this.lateDrops.set(name, (this.lateDrops.get(name) ?? 0) + 1);
      return undefined;
    }
    const lane = this.lane(name);
    if (!lane.broken && lane.s.destroyed) this.fail(lane, undefined);
    if (lane.broken && this.now() - lane.broken.at >= (this.opts.retryMs ?? 5000)) this.open(lane);
    if (lane.broken || lane.s.writableLength + lane.pending.bytes > MAX_BUFFERED_BYTES) {
      lane.counts.dropped++;
      return undefined;
    }
    return lane;
  }

  private enqueue(lane: Lane, text: string, newline: boolean): void {
    lane.pending.push(text, newline);
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

  /** Hands a lane's queued blocks to its stream, one write each. */
  private drain(lane: Lane): void {
    if (!lane.pending.lines) return;
    const s = lane.s;
    if (lane.cut) s.write('\n');
    lane.cut = false;
    for (const b of lane.pending.take()) {
      lane.inFlight++;
      s.write(b.buf.subarray(0, b.used), (err) => {
        lane.inFlight--;
        if (err) {
          lane.counts.dropped += b.lines;
          if (lane.s === s) this.fail(lane, err);
        } else {
          lane.counts.written += b.lines;
          lane.pending.release(b.buf);
        }
        if (lane.inFlight === 0 && lane.pending.lines) {
          if (this.closed) this.drain(lane);
          else {
            this.dirty.add(lane);
            this.flushTimer ??= setImmediate(this.flushDirty);
          }
        }
      });
    }
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
