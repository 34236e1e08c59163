import { describe, expect, it } from 'vitest';
import { BudgetGate, limitsOf } from '../../../src/supervisor/BudgetGate.js';

const H = 3_600_000;
const none = () => 0;

describe('BudgetGate', () => {
  it('holds a role at its hourly limit and frees it when enough spending has aged out of the window', () => {
    const g = new BudgetGate({ fleet: [], roles: new Map([['deva', limitsOf({ per_hour_usd: 5 })]]) });
    g.spend('deva', 0, 2);
    g.spend('deva', 10 * 60_000, 2);
    expect(g.hold('deva', 20 * 60_000, none)).toBeUndefined();
    g.spend('deva', 30 * 60_000, 1.5); // $5.50 in the hour
    const h = g.hold('deva', 40 * 60_000, none);
    expect(h).toMatchObject({ scope: 'role', spentUsd: 5.5, limit: { key: 'per_hour_usd', usd: 5 } });
    expect(h?.text).toBe('role deva spent $5.50 in the last hour, at or over llm.budgets roles[] per_hour_usd $5.00');
    // The first $2 leaves the window at 60 min: $3.50 left, under $5.
    expect(h?.freesAt).toBe(H);
    expect(g.hold('deva', H - 1, none)).toBeDefined();
    expect(g.hold('deva', H + 1, none)).toBeUndefined();
    // Other roles are not held by deva's budget.
    expect(g.hold('qaa', 40 * 60_000, none)).toBeUndefined();
  });

  it('counts the estimated spend of runs in flight, and a fleet limit holds every role', () => {
    const g = new BudgetGate({ fleet: limitsOf({ per_day_usd: 10 }), roles: new Map() });
    g.spend('a', 0, 4);
    g.spend('b', 1000, 4);
    expect(g.hold('c', 2000, none)).toBeUndefined();
    const live = (role?: string) => (role === undefined ? 2.5 : 0);
    const h = g.hold('c', 2000, live);
    expect(h).toMatchObject({ scope: 'fleet', spentUsd: 10.5 });
    expect(h?.text).toBe('the fleet spent $10.50 in the last 24 hours, at or over llm.budgets fleet per_day_usd $10.00');
  });

  it('is off without limits; zero and missing costs are not spending', () => {
    expect(new BudgetGate({ fleet: [], roles: new Map() }).enabled).toBe(false);
    const g = new BudgetGate({ fleet: limitsOf({ per_hour_usd: 1 }), roles: new Map() });
    g.spend('a', 0, null);
    g.spend('a', 0, 0);
    g.spend('a', 0, undefined);
    expect(g.spentIn(H, 1)).toBe(0);
    expect(limitsOf({ per_hour_usd: 1, per_day_usd: 9 }).map((l) => l.key)).toEqual(['per_hour_usd', 'per_day_usd']);
  });
});
