import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { cleanup, processesWith, restartSupervisor, ROOT, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { healthRoundAfter } from '../helpers/health.js';

/**
 * `background scale <agent> <n>` with a real supervisor and real agent processes: 2 → 3 → 1
 * replicas, each count seen in the processes that exist; the count is kept across a
 * supervisor restart until the config's `replicas` changes; per_task agents and counts
 * out of range are refused with exit 2.
 */

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const WAIT = 60_000; // a bound, not a wait: the machine may be loaded

interface Row { agent: string; replica: string; state: string; pid: number | null }
interface Fleet { replicas: { configured: number; up: number; stopped: number } }

describe('background scale <agent> <n>', () => {
  const marker = `scale${randomUUID().slice(0, 8)}`;
  let sup: RunningSupervisor;
  const status = async () => (await sup.api<{ agents: Row[]; fleet: Fleet }>('GET', '/api/v1/status')).body;
  const replicasOf = async (agent: string) => (await status()).agents.filter((a) => a.agent === agent);
  const running = (n: number) => waitFor(`${n} replicas of w running, ${n} worker processes`, async () => {
    const rows = await replicasOf('w');
    return rows.length === n && rows.every((r) => r.state === 'running') && processesWith(`worker-${marker}`).length === n ? rows : undefined;
  }, WAIT);
  const healthyAfter = (since: number) => healthRoundAfter<{ checked_at: string | null; verdict: string; system: { findings: unknown[] } }>(sup, since, WAIT);

  beforeAll(async () => {
    sup = await startSupervisor({
      agents: [
        { name: 'w', command: ['node', WORKER, `worker-${marker}`], replicas: 2, stop_timeout: 5 },
        { name: 'p', mode: 'per_task', max_concurrent: 2, command: ['node', '-e', 'process.exit(0)'] },
      ],
      monitoring: { check_interval: 1 },
    });
    await running(2);
  }, 120_000);

  afterAll(() => cleanup(sup));

  it('refuses a per_task agent, a replica id and counts out of range with exit 2, and unauthorised calls with 401', async () => {
    const per = await sup.cli(['background', 'scale', 'p', '3']);
    expect(per.code).toBe(2);
    expect(per.stderr).toMatch(/p is a per_task agent.*max_concurrent in its config \(now 2\)/);
    const replica = await sup.cli(['background', 'scale', 'w-1', '3']);
    expect(replica.code).toBe(2);
    expect(replica.stderr).toMatch(/w-1 is a replica; scale its agent: background scale w <n>/);
    for (const n of ['0', '1001', 'two']) {
      const r = await sup.cli(['background', 'scale', 'w', n]);
      expect(r.code, n).toBe(2);
      expect(r.stderr).toMatch(/Expected <replicas> to be a whole number from 1 to 1000/);
    }
    expect((await sup.api('POST', '/api/v1/agents/w/scale', { replicas: 0 })).status).toBe(400);
    expect((await sup.api('POST', '/api/v1/agents/nope/scale', { replicas: 2 })).status).toBe(404);
    expect((await fetch(`${sup.url}/api/v1/agents/w/scale`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"replicas":3}' })).status).toBe(401);
    expect(await replicasOf('w')).toHaveLength(2);
  }, 120_000);

  it('scales 2 → 3 → 1: the processes follow, the highest index stops first, and health stays healthy', async () => {
    const up = await sup.cli(['background', 'scale', 'w', '3']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^Scaled w from 2 to 3 replicas: started w-2 \(kept across supervisor restarts until the config's replicas changes\)/);
    const three = await running(3);
    expect(three.map((r) => r.replica)).toEqual(['w-0', 'w-1', 'w-2']);
    expect((await status()).fleet.replicas).toEqual({ configured: 3, up: 3, stopped: 0 });

    const pids = new Map(three.map((r) => [r.replica, r.pid]));
    const since = Date.now();
    const down = await sup.cli(['background', 'scale', 'w', '1', '--json']);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout)).toEqual({ ok: true, action: 'scale', target: 'w', agent: 'w', from: 3, to: 1, started: [], held: [], stopped: ['w-2', 'w-1'], persisted: true });
    expect(processesWith(`worker-${marker}`)).toEqual([pids.get('w-0')]); // answered once they are gone
    const rows = await replicasOf('w');
    expect(rows.map((r) => [r.replica, r.state, r.pid])).toEqual([['w-0', 'running', pids.get('w-0')]]);
    expect((await status()).fleet.replicas).toEqual({ configured: 1, up: 1, stopped: 0 });
    const h = await healthyAfter(since);
    expect(h.verdict).toBe('healthy');
    expect(h.system.findings).toEqual([]);
    expect((await sup.cli(['background', 'scale', 'w', '1'])).stdout).toMatch(/^w already has 1 replica: nothing to do/);
  }, 240_000);

  it('keeps the scaled count across a supervisor restart, until the config\'s replicas changes', async () => {
    expect(await sup.stop()).toBe(0);
    sup = await restartSupervisor(sup);
    await running(1);
    expect((await replicasOf('w')).map((r) => r.replica)).toEqual(['w-0']);

    // The config now says 3 (it said 2 when the scale was made): the config wins.
    expect(await sup.stop()).toBe(0);
    const file = path.join(sup.dir, 'config.yaml');
    const doc = parse(readFileSync(file, 'utf8')) as { background: { agents: { name: string; replicas?: number }[] } };
    doc.background.agents[0]!.replicas = 3;
    writeFileSync(file, stringify(doc));
    sup = await restartSupervisor(sup);
    await running(3);
    // …and the stored count is gone: scaling to the config's own count is not needed to get it back.
    expect(await sup.stop()).toBe(0);
    sup = await restartSupervisor(sup);
    await running(3);
  }, 300_000);
});
