/** A spending limit in USD over a rolling window. */
export interface Limit { readonly usd: number; readonly windowMs: number; readonly key: 'per_hour_usd' | 'per_day_usd' }

/** Why a role may not start new runs now. */
export interface Hold {
  readonly scope: 'role' | 'fleet';
  readonly limit: Limit;
  /** USD spent in the window (finished runs and the estimate of those in flight). */
  readonly spentUsd: number;
  /** Epoch ms at which enough of the window's spending has aged out to be under the limit again (finished runs only). */
  readonly freesAt: number;
  /** "role deva spent $5.12 in the last hour, over llm.budgets per_hour_usd $5.00". */
  readonly text: string;
}

export interface BudgetConfig {
  fleet: Limit[];
  roles: Map<string, Limit[]>;
}

interface Spend { at: number; role: string; usd: number }

const DAY_MS = 86_400_000;
const windowText = (l: Limit) => (l.windowMs === 3_600_000 ? 'the last hour' : 'the last 24 hours');

/**
 * Rolling spending limits per role and for the fleet (`llm.budgets`). It holds every
 * run's cost from the last day (loaded from the durable run ledger at start, so a
 * restart does not reset a budget) and answers, for a role, whether a new run may
 * start: a role over its own hourly or daily limit, or any role while the fleet is
 * over its limit, waits until enough spending has aged out of the window. Runs already
 * going are not stopped by a rolling budget (their own `max_cost_usd` does that).
 */
export class BudgetGate {
  private spends: Spend[] = [];

  constructor(private readonly cfg: BudgetConfig) {}

  /** The configured limits: the fleet's (role undefined) and each role's. */
  limits(): { role: string | undefined; limit: Limit }[] {
    return [...this.cfg.fleet.map((limit) => ({ role: undefined, limit })), ...[...this.cfg.roles].flatMap(([role, ls]) => ls.map((limit) => ({ role, limit })))];
  }

  get enabled(): boolean {
    return this.cfg.fleet.length > 0 || this.cfg.roles.size > 0;
  }

  /** A finished run's cost (its result's, or the estimate of a run killed before it). */
  spend(role: string, at: number, usd: number | null | undefined): void {
    if (usd === null || usd === undefined || !(usd > 0)) return;
    this.spends.push({ at, role, usd });
  }

  /**
   * Whether `role` is held at `now`, and by which limit (the role's own first, then
   * the fleet's). `live(role?)` is the estimated spend of the runs in flight: of one
   * role, or of every role when called without one.
   */
  hold(role: string, now: number, live: (role?: string) => number): Hold | undefined {
    this.prune(now);
    for (const l of this.cfg.roles.get(role) ?? []) {
      const h = this.check('role', l, now, live(role), (s) => s.role === role, `role ${role}`);
      if (h) return h;
    }
    for (const l of this.cfg.fleet) {
      const h = this.check('fleet', l, now, live(), () => true, 'the fleet');
      if (h) return h;
    }
    return undefined;
  }

  /** USD spent in the window ending at `now`, by finished runs of `role` (or of every role). */
  spentIn(windowMs: number, now: number, role?: string): number {
    return this.spends.reduce((sum, s) => (s.at > now - windowMs && (role === undefined || s.role === role) ? sum + s.usd : sum), 0);
  }

  private check(scope: Hold['scope'], l: Limit, now: number, liveUsd: number, mine: (s: Spend) => boolean, who: string): Hold | undefined {
    const inWindow = this.spends.filter((s) => s.at > now - l.windowMs && mine(s));
    const finished = inWindow.reduce((sum, s) => sum + s.usd, 0);
    const spentUsd = finished + liveUsd;
    if (spentUsd < l.usd) return undefined;
    // Oldest first: the window frees up when the spending that ages out brings it under the limit.
    let left = spentUsd;
    let freesAt = now + l.windowMs;
    for (const s of inWindow) {
      left -= s.usd;
      if (left < l.usd) {
        freesAt = s.at + l.windowMs;
        break;
      }
    }
    const text = `${who} spent $${spentUsd.toFixed(2)} in ${windowText(l)}, at or over llm.budgets ${scope === 'role' ? 'roles[]' : 'fleet'} ${l.key} $${l.usd.toFixed(2)}`;
    return { scope, limit: l, spentUsd, freesAt: Math.max(now + 1000, freesAt), text };
  }

  private prune(now: number): void {
    if (this.spends.length > 0 && (this.spends[0] as Spend).at <= now - DAY_MS) this.spends = this.spends.filter((s) => s.at > now - DAY_MS);
  }
}

/** The limits of one scope from its config section. */
export function limitsOf(c: { per_hour_usd?: number | undefined; per_day_usd?: number | undefined } | undefined): Limit[] {
  const out: Limit[] = [];
  if (c?.per_hour_usd !== undefined) out.push({ usd: c.per_hour_usd, windowMs: 3_600_000, key: 'per_hour_usd' });
  if (c?.per_day_usd !== undefined) out.push({ usd: c.per_day_usd, windowMs: DAY_MS, key: 'per_day_usd' });
  return out;
}
