import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecisionStore, openControllerDb } from '../../../src/controller/DecisionStore.js';

const file = () => path.join(mkdtempSync(path.join(tmpdir(), 'agentic-store-')), 'state.db');
const row = (i: number) => ({ at: i, alertname: 'A', fingerprint: `f${i}`, starts_at: 's', status: 'firing' as const, instance: null, agent: 'qaa', replica: 'qaa-0', target: 'qaa-0', supervisor: null, action: 'restart' as const, result: 'duplicate' as const, reason: 'r', decision_ms: 0.1 });

describe('DecisionStore', () => {
  it('keeps a bounded history: the newest decisions, never more than retain + 100 rows', () => {
    const db = openControllerDb(file());
    const store = new DecisionStore(db, { retainDecisions: 10 });
    for (let i = 0; i < 250; i++) store.record(row(i));
    const count = (db.prepare('SELECT COUNT(*) AS n FROM controller_decisions').get() as { n: number }).n;
    expect(count).toBeLessThanOrEqual(110);
    expect(store.recent(1000).map((d) => d.fingerprint).slice(0, 3)).toEqual(['f249', 'f248', 'f247']);
    expect(store.recent(1000)).toHaveLength(10); // never more than retained are listed
  });

  it('forgets dedupe claims older than their retention', () => {
    const clock = { now: 0 };
    const f = file();
    const store = new DecisionStore(openControllerDb(f), { claimRetentionSeconds: 60, now: () => clock.now });
    expect(store.claim('k@1')).toBe(true);
    expect(store.claim('k@1')).toBe(false);
    clock.now = 61_000;
    const reopened = new DecisionStore(openControllerDb(f), { claimRetentionSeconds: 60, now: () => clock.now });
    expect(reopened.isClaimed('k@1')).toBe(false);
  });
});
