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

  it('seeds the per-replica cooldowns from the decision history of a database made before they had a table', () => {
    const f = file();
    const old = openControllerDb(f);
    old.exec(`CREATE TABLE controller_decisions (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL, alertname TEXT NOT NULL, fingerprint TEXT NOT NULL, starts_at TEXT NOT NULL,
      status TEXT NOT NULL, instance TEXT, agent TEXT, replica TEXT, target TEXT, supervisor TEXT,
      action TEXT NOT NULL, result TEXT NOT NULL, reason TEXT NOT NULL, decision_ms REAL NOT NULL)`);
    const insert = old.prepare('INSERT INTO controller_decisions (at, alertname, fingerprint, starts_at, status, instance, agent, replica, target, supervisor, action, result, reason, decision_ms) VALUES (@at, @alertname, @fingerprint, @starts_at, @status, @instance, @agent, @replica, @target, @supervisor, @action, @result, @reason, @decision_ms)');
    insert.run({ ...row(1000), result: 'acted' });
    insert.run({ ...row(2000), result: 'acted' });
    insert.run({ ...row(3000), result: 'skipped_rate_limited' });
    insert.run({ ...row(1500), result: 'acted', target: 'qaa-1', supervisor: 'http://10.0.0.5:9464' });
    const store = new DecisionStore(old);
    expect(store.cooldowns.lastRestart(null, 'qaa-0')).toBe(2000);
    expect(store.cooldowns.lastRestart('http://10.0.0.5:9464', 'qaa-1')).toBe(1500);
    expect(store.cooldowns.lastRestart(null, 'qaa-1')).toBeUndefined();
    store.cooldowns.markRestarted(null, ['qaa-0'], 9000, 'k');
    expect(new DecisionStore(old).cooldowns.lastRestart(null, 'qaa-0')).toBe(9000); // seeded once, never again
  });
});
