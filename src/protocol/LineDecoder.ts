/** What is kept of a line that was too long: its first and last bytes. */
export interface OversizedSample {
  /** The first `keepBytes` bytes of the line (fewer if the line was shorter). */
  head: Buffer;
  /** The last `keepBytes` bytes of the line (they may overlap `head` for a line under twice `keepBytes`). */
  tail: Buffer;
}

/**
 * Splits a byte stream into lines. A line longer than `maxLineBytes` is dropped
 * (reported through `onOversize` with its size) instead of growing memory without
 * bound; with `keepBytes` > 0, its first and last `keepBytes` bytes are kept and
 * reported too, so a reader can still pick fields out of them.
 *
 * A line's chunks are collected in a list and joined once, when its newline
 * arrives: the work per line is linear in its size, however many chunks it spans.
 */
export class LineDecoder {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;
  /** While discarding with `keepBytes`: the head, and the newest chunks covering at least `keepBytes`. */
  private head: Buffer | undefined;
  private tailParts: Buffer[] = [];
  private tailSize = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineBytes = 1024 * 1024,
    private readonly onOversize: (bytes: number, sample?: OversizedSample) => void = () => {},
    private readonly keepBytes = 0,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      this.append(chunk.subarray(start, nl));
      this.flushLine();
      start = nl + 1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start));
  }

  /** Emits a final unterminated line, if any (call at end of stream). */
  end(): void {
    if (this.size > 0 || this.parts.length > 0) this.flushLine();
  }

  private append(buf: Buffer): void {
    this.size += buf.length;
    if (this.discarding) {
      this.keepTail(buf);
      return;
    }
    if (this.size > this.maxLineBytes) {
      this.discarding = true;
      if (this.keepBytes > 0) {
        const parts = [...this.parts, buf];
        const headParts: Buffer[] = [];
        let n = 0;
        for (const p of parts) {
          if (n >= this.keepBytes) break;
          headParts.push(p.subarray(0, this.keepBytes - n));
          n += Math.min(p.length, this.keepBytes - n);
        }
        this.head = Buffer.concat(headParts, n);
        let from = parts.length;
        for (let covered = 0; from > 0 && covered < this.keepBytes; ) covered += (parts[--from] as Buffer).length;
        for (const p of parts.slice(from)) this.keepTail(p);
      }
      this.parts = [];
      return;
    }
    this.parts.push(buf);
  }

  /** Keeps the newest chunks that cover `keepBytes` and a CR (copied: the stream may reuse its buffers). */
  private keepTail(buf: Buffer): void {
    if (this.keepBytes === 0 || buf.length === 0) return;
    const want = this.keepBytes + 1;
    const piece = Buffer.from(buf.length > want ? buf.subarray(buf.length - want) : buf);
    this.tailParts.push(piece);
    this.tailSize += piece.length;
    while (this.tailParts.length > 1 && this.tailSize - (this.tailParts[0] as Buffer).length >= want) {
      this.tailSize -= (this.tailParts.shift() as Buffer).length;
    }
  }

  private flushLine(): void {
    if (this.discarding) {
      if (this.keepBytes > 0 && this.head) {
        let tail = Buffer.concat(this.tailParts);
        if (tail.at(-1) === 0x0d) tail = tail.subarray(0, -1);
        if (tail.length > this.keepBytes) tail = tail.subarray(tail.length - this.keepBytes);
        this.onOversize(this.size, { head: this.head, tail });
      } else this.onOversize(this.size);
    } else {
      let line = (this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size)).toString('utf8');
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.onLine(line);
    }
    this.parts = [];
    this.size = 0;
    this.discarding = false;
    this.head = undefined;
    this.tailParts = [];
    this.tailSize = 0;
  }
}
