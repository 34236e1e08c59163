import { errorText } from './DeliveryError.js';
import { zeroCounters, type AlertLog, type ChannelCounters, type Escalation, type Notifier } from './Notifier.js';

/** Options of an EscalationDispatcher. */
export interface EscalationDispatcherOptions {
  notifiers: readonly Notifier[];
  /** The same (replica, reason) again within this many ms is not sent again. Default 60000; 0 turns it off. */
  dedupeWindowMs?: number;
  /** Epoch milliseconds; injectable for tests. Default Date.now. */
  clock?: () => number;
  log: AlertLog;
}

export const DEFAULT_DEDUPE_WINDOW_MS = 60_000;

/**
 * Fans each escalation out to every channel. `dispatch()` returns at once and
 * never throws: a channel that throws is logged and counted as failed, and the
 * other channels still get the escalation. The same (replica, reason) within
 * `dedupeWindowMs` is suppressed, so a flapping breaker does not flood inboxes.
 */
export class EscalationDispatcher {
  private readonly lastSent = new Map<string, number>();
  private readonly thrown = new Map<string, number>();
  private readonly windowMs: number;
  private readonly clock: () => number;
  private suppressedCount = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: EscalationDispatcherOptions) {
    this.windowMs = opts.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
    this.clock = opts.clock ?? Date.now;
  }

  /** The channels, by name. */
  get channels(): string[] {
    return this.opts.notifiers.map((n) => n.channel);
  }

  /** Escalations not sent because the same one was sent within the dedupe window. */
  get suppressed(): number {
    return this.suppressedCount;
  }

  /** Sends an escalation to every channel (in the background). Never throws. */
  dispatch(e: Escalation): void {
    try {
      if (this.isDuplicate(e)) {
        this.suppressedCount++;
        this.opts.log.debug({ agent: e.agent, replica: e.slot, escalation: e.reason }, `escalation for ${e.slot} (${e.reason}) already sent within ${this.windowMs} ms; not sent again`);
        return;
      }
    } catch {
      // a broken clock must not stop the alert
    }
    for (const n of this.opts.notifiers) {
      try {
        n.notify(e);
      } catch (err) {
        this.thrown.set(n.channel, (this.thrown.get(n.channel) ?? 0) + 1);
        try {
          this.opts.log.error({ channel: n.channel, agent: e.agent, replica: e.slot, escalation: e.reason, err: errorText(err) }, `${n.channel} alert for ${e.slot} failed: ${errorText(err)}`);
        } catch {
          // nowhere left to report it
        }
      }
    }
  }

  /** `{sent, failed, dropped}` for each channel, by channel name. */
  counters(): Record<string, ChannelCounters> {
    const out: Record<string, ChannelCounters> = {};
    for (const n of this.opts.notifiers) {
      let c: ChannelCounters;
      try {
        c = n.counters();
      } catch {
        c = zeroCounters();
      }
      out[n.channel] = { ...c, failed: c.failed + (this.thrown.get(n.channel) ?? 0) };
    }
    return out;
  }

  /** Closes every channel, giving deliveries in flight up to `graceMs`. Idempotent; never rejects. */
  close(graceMs?: number): Promise<void> {
    this.closing ??= Promise.allSettled(this.opts.notifiers.map(async (n) => n.close(graceMs))).then(() => undefined);
    return this.closing;
  }

  private isDuplicate(e: Escalation): boolean {
    if (this.windowMs <= 0) return false;
    const now = this.clock();
    for (const [key, at] of this.lastSent) if (now - at >= this.windowMs) this.lastSent.delete(key);
    const key = `${e.slot}\u0000${e.reason}`;
    if (this.lastSent.has(key)) return true;
    this.lastSent.set(key, now);
    return false;
  }
}
