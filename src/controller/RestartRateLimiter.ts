import { TokenBucket } from './TokenBucket.js';

export interface RateLimitOptions {
  /** Restarts allowed per minute over all agents and supervisors; also the burst size. Default 6. */
  maxPerMinute?: number | undefined;
  /** Seconds after a restart of one target before the controller restarts it again. Default 300. */
  targetCooldownSeconds?: number | undefined;
  /** Clock in epoch ms. Default Date.now. */
  now?: (() => number) | undefined;
}

export const RATE_LIMIT_DEFAULTS = { maxPerMinute: 6, targetCooldownSeconds: 300 } as const;

export type RateVerdict = { ok: true } | { ok: false; reason: string };

/**
 * The controller's two brakes, so an alert storm cannot become a restart storm:
 * a global token bucket (N restarts per minute) and a cooldown per target (one
 * restart of the same replica or agent per cooldown). Refusals are final: the
 * alert gets another chance only when Alertmanager notifies again.
 */
export class RestartRateLimiter {
  private readonly bucket: TokenBucket;
  private readonly lastActed = new Map<string, number>();
  private readonly cooldownMs: number;
  private readonly now: () => number;

  /** @throws RangeError for a rate below 1 per minute or a negative cooldown */
  constructor(opts: RateLimitOptions = {}) {
    const perMinute = opts.maxPerMinute ?? RATE_LIMIT_DEFAULTS.maxPerMinute;
    const cooldown = opts.targetCooldownSeconds ?? RATE_LIMIT_DEFAULTS.targetCooldownSeconds;
    if (!Number.isFinite(cooldown) || cooldown < 0) throw new RangeError(`Expected the per-target cooldown to be a non-negative number of seconds, got \`${cooldown}\``);
    if (!Number.isFinite(perMinute) || perMinute < 1) throw new RangeError(`Expected the restart rate limit to be at least 1 per minute, got \`${perMinute}\``);
    this.now = opts.now ?? Date.now;
    this.bucket = new TokenBucket(perMinute, perMinute / 60, this.now);
    this.cooldownMs = cooldown * 1000;
  }

  /** Whether `target` may be restarted now; when it may, the restart is counted. */
  tryAcquire(target: string): RateVerdict {
    const now = this.now();
    const last = this.lastActed.get(target);
    if (last !== undefined && now - last < this.cooldownMs) {
      return { ok: false, reason: `${target} was restarted by an alert ${Math.round((now - last) / 1000)} s ago (cooldown ${this.cooldownMs / 1000} s)` };
    }
    if (!this.bucket.tryTake()) {
      return { ok: false, reason: `global limit of ${this.bucket.capacity} alert restarts per minute reached (next in ${Math.ceil(this.bucket.msUntilNext() / 1000)} s)` };
    }
    this.remember(target, now);
    return { ok: true };
  }

  /** Seeds the cooldown of a target restarted at `at` (epoch ms), e.g. from the decision history after a controller restart. */
  remember(target: string, at: number): void {
    if (at > (this.lastActed.get(target) ?? -Infinity)) this.lastActed.set(target, at);
    if (this.lastActed.size > 10_000) this.prune();
  }

  private prune(): void {
    const now = this.now();
    for (const [k, at] of this.lastActed) if (now - at >= this.cooldownMs) this.lastActed.delete(k);
  }
}
