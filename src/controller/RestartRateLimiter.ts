import { MemoryCooldowns, type CooldownLedger } from './ReplicaCooldowns.js';
import { TokenBucket } from './TokenBucket.js';

export interface RateLimitOptions {
  /** Restarts allowed per minute over all agents and supervisors; also the burst size. Default 6. */
  maxPerMinute?: number | undefined;
  /** Seconds after an alert restart of one replica before the controller restarts it again. Default 300. */
  targetCooldownSeconds?: number | undefined;
  /** Where the last alert restart of each replica is kept. Default: in memory (the controller passes its durable table). */
  ledger?: CooldownLedger | undefined;
  /** Clock in epoch ms. Default Date.now. */
  now?: (() => number) | undefined;
}

export const RATE_LIMIT_DEFAULTS = { maxPerMinute: 6, targetCooldownSeconds: 300 } as const;

/** A replica left out because it was restarted by an alert `agoMs` ago, inside its cooldown. */
export interface CoolingReplica { slot: string; agoMs: number }

export type RateVerdict =
  /** Restart `slots` (the requested ones out of their cooldown); `cooling` were left out. */
  | { ok: true; slots: string[]; cooling: CoolingReplica[] }
  | { ok: false; reason: string };

/**
 * The controller's two brakes, so an alert storm cannot become a restart storm:
 * a cooldown per replica (one alert restart of the same replica per cooldown,
 * whichever alert and whether it named the agent or the replica) and a global
 * token bucket (N restart requests per minute). Refusals are final: the alert gets
 * another chance only when Alertmanager notifies again.
 */
export class RestartRateLimiter {
  private readonly bucket: TokenBucket;
  private readonly ledger: CooldownLedger;
  readonly cooldownMs: number;
  private readonly now: () => number;

  /** @throws RangeError for a rate below 1 per minute or a negative cooldown */
  constructor(opts: RateLimitOptions = {}) {
    const perMinute = opts.maxPerMinute ?? RATE_LIMIT_DEFAULTS.maxPerMinute;
    const cooldown = opts.targetCooldownSeconds ?? RATE_LIMIT_DEFAULTS.targetCooldownSeconds;
    if (!Number.isFinite(cooldown) || cooldown < 0) throw new RangeError(`Expected the per-replica cooldown to be a non-negative number of seconds, got \`${cooldown}\``);
    if (!Number.isFinite(perMinute) || perMinute < 1) throw new RangeError(`Expected the restart rate limit to be at least 1 per minute, got \`${perMinute}\``);
    this.now = opts.now ?? Date.now;
    this.bucket = new TokenBucket(perMinute, perMinute / 60, this.now);
    this.cooldownMs = cooldown * 1000;
    this.ledger = opts.ledger ?? new MemoryCooldowns();
  }

  /**
   * Whether the replicas `slots` of `supervisor` (null: in-process) may be restarted
   * now for the alert instance `alertKey`. Replicas inside their cooldown are left
   * out; if none is left, or the global bucket is empty, the verdict is a refusal
   * with its reason. Granted restarts take one token and start the cooldown of
   * every granted replica.
   */
  tryAcquire(target: { supervisor: string | null; slots: readonly string[] }, alertKey: string): RateVerdict {
    const now = this.now();
    const slots: string[] = [];
    const cooling: CoolingReplica[] = [];
    for (const slot of target.slots) {
      const last = this.ledger.lastRestart(target.supervisor, slot);
      if (last !== undefined && now - last < this.cooldownMs) cooling.push({ slot, agoMs: Math.max(0, now - last) });
      else slots.push(slot);
    }
    if (!slots.length) {
      const nextInMs = Math.min(...cooling.map((c) => this.cooldownMs - c.agoMs));
      return { ok: false, reason: `${coolingText(cooling)}; the cooldown between alert restarts of one replica is ${this.cooldownMs / 1000} s, so the next is possible in ${Math.ceil(nextInMs / 1000)} s` };
    }
    if (!this.bucket.tryTake()) {
      return { ok: false, reason: `global limit of ${this.bucket.capacity} alert restarts per minute reached (next in ${Math.ceil(this.bucket.msUntilNext() / 1000)} s)` };
    }
    this.ledger.markRestarted(target.supervisor, slots, now, alertKey);
    return { ok: true, slots, cooling };
  }

  /** Gives back the cooldowns `alertKey` started: its restart request failed, nothing was restarted. */
  release(alertKey: string): void {
    this.ledger.forget(alertKey);
  }
}

/** `qaa-0 was restarted by an alert 12 s ago`, or `qaa-0 and qaa-1 were restarted by an alert 12 s and 40 s ago`. */
export function coolingText(cooling: readonly CoolingReplica[]): string {
  const and = (xs: string[]) => (xs.length > 1 ? `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}` : xs.join(''));
  const slots = and(cooling.map((c) => c.slot));
  const ago = and(cooling.map((c) => String(Math.round(c.agoMs / 1000))));
  return `${slots} ${cooling.length > 1 ? 'were' : 'was'} restarted by an alert ${ago} s ago`;
}
