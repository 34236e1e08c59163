/** The clock and timer functions a WakeTimer uses (injected in tests). */
export interface WakeClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(t: NodeJS.Timeout): void;
}

const systemClock: WakeClock = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (t) => clearTimeout(t) };

/** setTimeout's largest delay (2^31 − 1 ms); a later time is re-armed when this fires. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * One timer for "wake me when the earliest of these times comes": the supervisor arms
 * it with the queue's earliest retry time after each dispatch round, so a task waiting
 * for its backoff is dispatched when it is due, without polling. Arming again with the
 * same time keeps the timer; an earlier or later time replaces it; `undefined` disarms.
 * The timer is unref'd: it never keeps the process alive.
 */
export class WakeTimer {
  private timer: NodeJS.Timeout | undefined;
  private at: number | undefined;

  constructor(private readonly fire: () => void, private readonly clock: WakeClock = systemClock) {}

  /** The time the timer is armed for (epoch ms), if any. */
  get armedFor(): number | undefined {
    return this.at;
  }

  arm(at: number | undefined): void {
    if (at === this.at) return;
    this.disarm();
    if (at === undefined) return;
    this.at = at;
    const delay = Math.min(MAX_TIMEOUT_MS, Math.max(0, at - this.clock.now()));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.at = undefined;
      this.fire();
    }, delay);
    this.timer.unref?.();
  }

  disarm(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.at = undefined;
  }
}
