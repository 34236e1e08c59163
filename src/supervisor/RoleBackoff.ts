/**
 * Rate limits are the API's, not a task's: when a run of a role is told it is
 * rate-limited (or the API is overloaded), every run of that role would be told the
 * same. So the whole role backs off: no new run of it is started until `until`, and
 * the delay doubles while the limits keep coming (base, 2 × base, … up to max). One
 * storm of N rate-limited runs is one backoff, not N: a report while the role is
 * already backing off does not extend it. A run that starts after the backoff and is
 * not rate-limited ends the episode (the next limit starts again at base).
 *
 * Several roles held at once ({@link SHARED_RATE_LIMIT_ROLES} or more) mean the
 * provider is limiting the account, not one role: {@link RoleBackoff.shared} says so,
 * and the health layer reports one system finding for the fleet instead of one per role.
 */
export interface BackoffDecision {
  /** true when this report started a new backoff (log it, count it, tell someone). */
  started: boolean;
  /** Epoch ms until which the role is held. */
  until: number;
  /** The backoff's delay, ms. */
  delayMs: number;
  /** Backoffs in a row in this episode (1 for the first). */
  streak: number;
}

/** Roles held at once from which the rate limit is the account's (one fleet finding), like a shared outage's two agents. */
export const SHARED_RATE_LIMIT_ROLES = 2;

/** A role held by the API's rate limit. */
export interface RateLimitHold {
  role: string;
  /** Epoch ms until which no new run of the role starts. */
  until: number;
  /** Epoch ms of the first backoff of this episode (limits in a row, until a run succeeds). */
  since: number;
  streak: number;
}

interface RoleState { until: number; streak: number; since: number }

export class RoleBackoff {
  private readonly roles = new Map<string, RoleState>();

  constructor(private readonly baseMs: number, private readonly maxMs: number) {}

  /** A run of `role` reported a rate limit at `now`. */
  rateLimited(role: string, now: number): BackoffDecision {
    const s = this.roles.get(role);
    if (s && now < s.until) return { started: false, until: s.until, delayMs: 0, streak: s.streak };
    const streak = (s?.streak ?? 0) + 1;
    const delayMs = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(30, streak - 1));
    const until = now + delayMs;
    this.roles.set(role, { until, streak, since: s?.since ?? now });
    return { started: true, until, delayMs, streak };
  }

  /** A run of `role` that started after its backoff ended well: the episode is over. */
  succeeded(role: string, runStartedAt: number): void {
    const s = this.roles.get(role);
    if (s && runStartedAt >= s.until) this.roles.delete(role);
  }

  /** Epoch ms until which `role` is held, when it is held at `now`. */
  heldUntil(role: string, now: number): number | undefined {
    const s = this.roles.get(role);
    return s && now < s.until ? s.until : undefined;
  }

  /** The roles held at `now`, with their end times. */
  held(now: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [role, s] of this.roles) if (now < s.until) out.set(role, s.until);
    return out;
  }

  /** The roles held at `now`, by name. */
  holds(now: number): RateLimitHold[] {
    const out: RateLimitHold[] = [];
    for (const [role, s] of this.roles) if (now < s.until) out.push({ role, until: s.until, since: s.since, streak: s.streak });
    return out.sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
  }

  /** The holds at `now` when {@link SHARED_RATE_LIMIT_ROLES} or more roles are held at once (the account is limited); else undefined. */
  shared(now: number): RateLimitHold[] | undefined {
    const h = this.holds(now);
    return h.length >= SHARED_RATE_LIMIT_ROLES ? h : undefined;
  }
}
