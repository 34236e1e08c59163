import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/telemetry/metrics/parseExposition.js';
import { parse, stringify } from 'yaml';
import { cleanup, ROOT, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * One vocabulary: the same fleet is counted the same way by `status --json`,
 * `health --json`, `metrics --json`, the monitor's header and /metrics, and the
 * human outputs print the same sentence. The fleet has a 2-replica service agent,
 * a service agent whose only replica has its circuit open, and a per_task agent
 * with one of its two slots busy; then one replica stopped by an operator and an
 * agent added by a reload.
 */

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');

interface Fleet { agents: { configured: number; up: number; down: string[]; stopped: string[] }; replicas: { configured: number; up: number; stopped: number }; slots: { configured: number; busy: number } }

const EXPECTED: Fleet = { agents: { configured: 3, up: 2, down: ['crasher'], stopped: [] }, replicas: { configured: 3, up: 2, stopped: 0 }, slots: { configured: 2, busy: 1 } };
const LINE = '2/3 agents up (replicas 2/3, slots 1/2 busy)';

describe('status, health, metrics, the monitor and /metrics count the same fleet the same way', () => {
  let sup: RunningSupervisor;

  beforeAll(async () => {
    sup = await startSupervisor({
      agents: [
        { name: 'w', command: ['node', WORKER], replicas: 2 },
        { name: 'crasher', command: ['node', '-e', 'process.exit(1)'] },
        { name: 'p', mode: 'per_task', max_concurrent: 2, command: ['node', '-e', 'setTimeout(() => {}, 120000)'] },
      ],
      // two crashes open crasher-0's breaker for 10 minutes; health rounds every second
      monitoring: { check_interval: 1, recovery: { circuit_breaker_threshold: 2, base_delay: 0, jitter: 0, breaker_cooldown: 600, breaker_max_cooldown: 600 } },
    });
    expect((await sup.api('POST', '/api/v1/tasks', { role: 'p', title: 'a long run' })).status).toBe(201);
    await waitFor('crasher-0 circuit open, both w replicas and one p run running', async () => {
      const { agents } = (await sup.api<{ agents: { replica: string; state: string; concurrency?: { running: number } }[] }>('GET', '/api/v1/status')).body;
      const by = new Map(agents.map((a) => [a.replica, a]));
      return by.get('crasher-0')?.state === 'circuit_open' && by.get('w-0')?.state === 'running' && by.get('w-1')?.state === 'running' && by.get('p')?.concurrency?.running === 1;
    }, 50_000);
  });

  afterAll(() => cleanup(sup));

  /** The fleet as `health --json` (its last round), `status --json`, `metrics --json`, `monitor --once --json` and /metrics count it. */
  async function everySurface(expected: Fleet): Promise<void> {
    // health's figures come from its last round (every second): wait for one after the fleet settled
    let health: Fleet | undefined;
    await waitFor('a health round that saw the settled fleet', async () => {
      const body = JSON.parse((await sup.cli(['background', 'health', '--json'])).stdout) as { system: Fleet };
      health = { agents: body.system.agents, replicas: body.system.replicas, slots: body.system.slots };
      return JSON.stringify(health) === JSON.stringify(expected);
    }, 60_000).catch(() => undefined);
    expect(health, 'health --json').toEqual(expected);

    const status = JSON.parse((await sup.cli(['background', 'status', '--json'])).stdout) as { fleet: Fleet };
    expect(status.fleet, 'status --json').toEqual(expected);
    const metrics = JSON.parse((await sup.cli(['background', 'metrics', '--json'])).stdout) as { fleet: Fleet };
    expect(metrics.fleet, 'metrics --json').toEqual(expected);
    const monitor = JSON.parse((await sup.cli(['background', 'monitor', '--once', '--json'])).stdout) as { status: { fleet: Fleet } };
    expect(monitor.status.fleet, 'monitor --once --json').toEqual(expected);

    const p = parseExposition(await (await fetch(`${sup.url}/metrics`)).text(), 'prometheus');
    const sum = (name: string) => p.series(name).reduce((n, x) => n + x.value, 0);
    expect({
      agents: {
        configured: sum('agentic_agents_configured'), up: sum('agentic_agents_up'),
        down: p.series('agentic_agents_up').filter((x) => x.value === 0).map((x) => x.labels.role), stopped: p.series('agentic_agents_stopped').filter((x) => x.value > 0).map((x) => x.labels.role),
      },
      replicas: { configured: sum('agentic_replicas_configured'), up: sum('agentic_replicas_up'), stopped: sum('agentic_replicas_stopped') },
      slots: { configured: sum('agentic_slots_configured'), busy: sum('agentic_slots_busy') },
    }, '/metrics').toEqual(expected);
    expect(p.value('agentic_agent_circuit_state', { agent: 'crasher', role: 'crasher', replica: '0' })).toBe(2);
  }

  it('reports the same counts in every machine-readable surface', async () => {
    await everySurface(EXPECTED);
  }, 180_000); // six CLI starts: slow on a loaded machine

  it('prints the same sentence and the same replica names in every human surface', async () => {
    const status = await sup.cli(['background', 'status']);
    expect(status.stdout).toContain(LINE);
    for (const name of ['w-0', 'w-1', 'crasher-0']) expect(status.stdout).toMatch(new RegExp(`\\s${name}\\s`));
    expect(status.stdout).toMatch(/\s1\/2 slots\s/);

    const health = await sup.cli(['background', 'health']);
    expect(health.stdout).toMatch(new RegExp(`^System: \\S+ — ${LINE.replace(/[()/]/g, '\\$&')}`, 'm'));
    for (const name of ['w-0', 'w-1', 'crasher-0']) expect(health.stdout).toMatch(new RegExp(`^${name}\\s`, 'm'));

    const metrics = await sup.cli(['background', 'metrics']);
    expect(metrics.stdout).toContain(`Agents (now): ${LINE}`);

    const monitor = await sup.cli(['background', 'monitor', '--once', '--plain']);
    expect(monitor.stdout).toContain('Active Agents: 2/3 (replicas 2/3, slots 1/2 busy)');
    for (const name of ['w-0', 'w-1', 'crasher-0']) expect(monitor.stdout).toMatch(new RegExp(`^${name}\\s`, 'm'));
  }, 180_000);

  it('counts a replica an operator stopped and an agent a reload added the same way everywhere', async () => {
    expect((await sup.cli(['background', 'stop', 'w-1'])).code).toBe(0);
    const file = path.join(sup.dir, 'config.yaml');
    const doc = parse(readFileSync(file, 'utf8')) as { background: { agents: Record<string, unknown>[] } };
    doc.background.agents.push({ name: 'extra', command: ['node', WORKER] });
    writeFileSync(file, stringify(doc));
    const r = await sup.cli(['background', 'reload', '--config', file]);
    expect(r.code, r.stderr).toBe(0);
    await waitFor('extra-0 running', async () => (await sup.api<{ agents: { replica: string; state: string }[] }>('GET', '/api/v1/status')).body.agents.some((a) => a.replica === 'extra-0' && a.state === 'running'), 60_000);
    const expected: Fleet = { agents: { configured: 4, up: 3, down: ['crasher'], stopped: [] }, replicas: { configured: 4, up: 2, stopped: 1 }, slots: { configured: 2, busy: 1 } };
    await everySurface(expected);
    const line = '3/4 agents up (replicas 2/4 (1 stopped), slots 1/2 busy)';
    expect((await sup.cli(['background', 'status'])).stdout).toContain(line);
    expect((await sup.cli(['background', 'metrics'])).stdout).toContain(`Agents (now): ${line}`);
    expect((await sup.cli(['background', 'health'])).stdout).toMatch(new RegExp(`^System: \\S+ — ${line.replace(/[()/]/g, '\\$&')}`, 'm'));
    expect((await sup.cli(['background', 'monitor', '--once', '--plain'])).stdout).toContain('Active Agents: 3/4 (replicas 2/4 (1 stopped), slots 1/2 busy)');
  }, 240_000);
});
