/**
 * Splits a byte stream into lines. A line longer than `maxLineBytes` is dropped
 * (reported through `onOversize`) instead of growing memory without bound.
 */
export class LineDecoder {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineBytes = 1024 * 1024,
    private readonly onOversize: (bytes: number) => void = () => {},
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
    if (this.discarding) {
      this.size += buf.length;
      return;
    }
    this.size += buf.length;
    if (this.size > this.maxLineBytes) {
      this.discarding = true;
      this.parts = [];
      return;
    }
    this.parts.push(buf);
  }

  private flushLine(): void {
    if (this.discarding) {
      this.onOversize(this.size);
    } else {
      let line = (this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts)).toString('utf8');
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.onLine(line);
    }
    this.parts = [];
    this.size = 0;
    this.discarding = false;
  }
}
