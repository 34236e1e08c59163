import { CSI } from './ansi.js';
import type { Size } from './frame.js';
import { parseKeys, type Key } from './keys.js';

const RESTORE = `${CSI.showCursor}${CSI.altScreenOff}`;

/**
 * The live terminal: alternate screen, hidden cursor, raw-mode keys. Frames are
 * drawn line by line at absolute positions (no scrolling, no flicker) and only
 * when they changed. `stop()` is idempotent and also runs on process exit, so
 * the user's terminal is always given back as it was.
 */
export class Screen {
  private last: string[] = [];
  private active = false;
  private readonly onExit = () => this.restore();
  private onData: ((chunk: string) => void) | undefined;
  private onResize: (() => void) | undefined;

  constructor(private readonly out: NodeJS.WriteStream, private readonly input: NodeJS.ReadStream) {}

  size(): Size {
    return { cols: this.out.columns || 80, rows: this.out.rows || 24 };
  }

  start(handlers: { keys: (keys: Key[]) => void; resize: () => void }): void {
    if (this.active) return;
    this.active = true;
    this.out.write(`${CSI.altScreenOn}${CSI.hideCursor}${CSI.home}${CSI.clearToEnd}`);
    process.once('exit', this.onExit);
    if (this.input.isTTY) this.input.setRawMode(true);
    this.input.setEncoding('utf8');
    this.onData = (chunk: string) => handlers.keys(parseKeys(chunk));
    this.input.on('data', this.onData);
    this.input.resume();
    this.onResize = () => {
      this.last = []; // repaint everything after a resize
      handlers.resize();
    };
    this.out.on('resize', this.onResize);
  }

  /** Draws `lines` (at most the screen's height), rewriting only the lines that changed. */
  draw(lines: readonly string[]): void {
    if (!this.active) return;
    const rows = this.size().rows;
    let buf = '';
    const shown = lines.slice(0, rows);
    shown.forEach((line, i) => {
      if (this.last[i] !== line) buf += `\u001b[${i + 1};1H\u001b[2K${line}`;
    });
    if (shown.length < this.last.length) buf += `\u001b[${shown.length + 1};1H${CSI.clearToEnd}`;
    this.last = [...shown];
    if (buf) this.out.write(buf);
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    if (this.onData) this.input.off('data', this.onData);
    if (this.onResize) this.out.off('resize', this.onResize);
    process.off('exit', this.onExit);
    this.restore();
  }

  private restore(): void {
    if (this.input.isTTY) {
      try { this.input.setRawMode(false); } catch { /* the terminal is gone */ }
    }
    this.input.pause();
    try { this.out.write(RESTORE); } catch { /* the terminal is gone */ }
  }
}
