/** What RepeatedWarnings needs of a logger (pino's `warn`). */
export interface WarnLogger {
  warn(fields: Record<string, unknown>, msg: string): void;
}

export interface RepeatedWarningsOptions {
  /** Warnings of one key logged per window; later ones are counted. Default 5. */
  burst?: number | undefined;
  /** The window, in ms. Default 60,000. */
  windowMs?: number | undefined;
  now?: (() => number) | undefined;
}

interface Window {
  start: number;
  logged: number;
  suppressed: number;
  fields: Record<string, unknown>;
  what: string;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Rate-limits repeated identical warnings (one key: an agent and the kind of
 * warning, such as a malformed protocol line), so a chatty agent cannot fill the
 * supervisor's log. Per key and window, the first `burst` are logged; the rest are
 * counted, and at the end of the window one summary line says how many were
 * suppressed ("suppressed 1234 more …"). The counters on /metrics still count every one.
 */
export class RepeatedWarnings {
  private readonly windows = new Map<string, Window>();
  private readonly burst: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly log: WarnLogger, o: RepeatedWarningsOptions = {}) {
    this.burst = o.burst ?? 5;
    this.windowMs = o.windowMs ?? 60_000;
    this.now = o.now ?? Date.now;
  }

  /**
   * Logs `msg` at warn unless `key` has had `burst` warnings in this window.
   * @param what the kind of warning, for the summary ("malformed protocol lines from qaa-0")
   */
  warn(key: string, what: string, fields: Record<string, unknown>, msg: string): void {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (w) this.summarize(key, w);
      w = { start: now, logged: 0, suppressed: 0, fields, what, timer: undefined };
      this.windows.set(key, w);
    }
    if (w.logged < this.burst) {
      w.logged++;
      this.log.warn(fields, msg);
      return;
    }
    w.suppressed++;
    w.fields = fields;
    if (!w.timer) {
      const win = w;
      win.timer = setTimeout(() => {
        if (this.windows.get(key) === win) this.windows.delete(key);
        this.summarize(key, win);
      }, Math.max(0, win.start + this.windowMs - now));
      win.timer.unref();
    }
  }

  /** Logs the summaries still due and stops the timers (at shutdown). */
  flush(): void {
    for (const [key, w] of this.windows) this.summarize(key, w);
    this.windows.clear();
  }

  private summarize(key: string, w: Window): void {
    clearTimeout(w.timer);
    w.timer = undefined;
    if (!w.suppressed) return;
    const n = w.suppressed;
    w.suppressed = 0;
    const secs = Math.round(this.windowMs / 1000);
    const over = Math.min(secs, Math.max(1, Math.round((this.now() - w.start) / 1000)));
    this.log.warn({ ...w.fields, suppressed: n, repeat_key: key, window_seconds: secs }, `suppressed ${n} more ${w.what} in ${over} s (the first ${this.burst} of every ${secs} s are logged; the counters on /metrics count them all)`);
  }
}
