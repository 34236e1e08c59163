/** Encoded lines, in order, waiting to be handed to a stream in one write. */
export interface Block {
  readonly buf: Buffer;
  /** Bytes of `buf` filled. */
  used: number;
  /** Whole lines in it (the unit the store counts as written or dropped). */
  lines: number;
}

/**
 * The lines of one log stream that wait for their file, encoded into byte blocks
 * as they are given, not kept as strings.
 *
 * Why: a string queued until the next event-loop turn (or until the write in
 * flight is done) survives the young generation's collections and is promoted to
 * the old space, where it stays, dead, until the next full collection. Under a
 * stdout flood that made the supervisor's old space grow by 50–80 MB before V8
 * collected it. Here each line's record, JSON text and string die young (they are
 * copied into a block at once), and what waits is bytes in a few buffers outside
 * the JS heap whose size the store bounds.
 *
 * Blocks grow while a stream is busy (doubling from `minBlock` to `maxBlock`, so a
 * flood is written in few large writes) and shrink again when it is quiet. A
 * written block comes back through {@link release} and is reused, so a steady
 * stream allocates nothing.
 */
export class LineBlocks {
  private blocks: Block[] = [];
  private spare: Buffer | undefined;
  private size: number;
  /** Bytes waiting. */
  bytes = 0;
  /** Lines waiting. */
  lines = 0;

  constructor(private readonly minBlock: number, private readonly maxBlock: number) {
    this.size = Math.min(minBlock, maxBlock);
  }

  /** Appends `text` (UTF-8), and a newline when `newline`, as one line. */
  push(text: string, newline: boolean): void {
    const n = Buffer.byteLength(text) + (newline ? 1 : 0);
    let b = this.blocks.at(-1);
    if (!b || b.buf.length - b.used < n) b = this.open(n);
    b.used += b.buf.write(text, b.used);
    if (newline) b.buf[b.used++] = 0x0a;
    b.lines++;
    this.bytes += n;
    this.lines++;
  }

  private open(n: number): Block {
    if (this.blocks.length) this.size = Math.min(this.maxBlock, this.size * 2);
    const want = Math.max(n, this.size);
    let buf = this.spare;
    if (buf && buf.length >= want && buf.length <= 2 * Math.max(want, this.size)) this.spare = undefined;
    else buf = Buffer.allocUnsafeSlow(want);
    const b: Block = { buf, used: 0, lines: 0 };
    this.blocks.push(b);
    return b;
  }

  /** Takes every waiting block, oldest first; give each back with {@link release} once written. */
  take(): Block[] {
    const out = this.blocks;
    if (this.bytes < this.size / 4) this.size = Math.max(this.minBlock, this.size / 2);
    this.blocks = [];
    this.bytes = 0;
    this.lines = 0;
    return out;
  }

  /** A block's buffer after its write: kept for the next block if it is of the current size. */
  release(buf: Buffer): void {
    if (buf.length <= 2 * this.size && (!this.spare || buf.length > this.spare.length)) this.spare = buf;
  }

  /** Drops every waiting line; returns how many. */
  clear(): number {
    const n = this.lines;
    this.blocks = [];
    this.bytes = 0;
    this.lines = 0;
    return n;
  }
}
