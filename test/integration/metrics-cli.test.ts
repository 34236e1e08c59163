import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoleStats } from '../../src/queue/taskStats.js';
import { ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

describe('background metrics', () => {
  let sup: RunningSupervisor;
  beforeAll(async () => {
    sup = await startSupervisor({ agents: [
      { name: 'deva_ts', mode: 'per_task', max_concurrent: 3, stdout_adapter: 'claude-stream-json', env: { FAKE_CLAUDE_DELAY_MS: '20' }, command: ['node', path.join(ROOT, 'examples/agents/fake-claude.mjs'), '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'] },
      { name: 'flaky', mode: 'per_task', command: ['node', '-e', 'process.exit(1)'] },
    ], queue: { max_attempts: 1 } });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await sup.api<{ task: { id: string } }>('POST', '/api/v1/tasks', { role: 'deva_ts', title: `story ${i}`, prompt: `implement story ${i}` })).body.task.id);
    ids.push((await sup.api<{ task: { id: string } }>('POST', '/api/v1/tasks', { role: 'flaky', title: 'fails' })).body.task.id);
    for (const id of ids) await waitFor(`${id} finished`, async () => ['completed', 'failed'].includes((await sup.api<{ task: { status: string } }>('GET', `/api/v1/tasks/${id}`)).body.task.status));
  });
  afterAll(() => cleanup(sup));

  it('reports percentiles, throughput, error rate and LLM cost by role from the API', async () => {
    const r = await sup.cli(['background', 'metrics', '--json', '--window', '10m']);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { window_seconds: number; roles: RoleStats[]; system: { restarts: number } };
    expect(body.window_seconds).toBe(600);
    const claude = body.roles.find((x) => x.role === 'deva_ts') as RoleStats;
    expect(claude.completed).toBe(4);
    expect(claude.error_rate).toBe(0);
    expect(claude.duration_seconds.p50).toBeGreaterThan(0);
    expect(claude.duration_seconds.p99).toBeGreaterThanOrEqual(claude.duration_seconds.p50 as number);
    expect(claude.throughput_per_min).toBeCloseTo(0.4, 5);
    expect(claude.llm.cost_usd).toBeGreaterThan(0);
    expect(claude.llm.turns).toBeGreaterThanOrEqual(8);
    const flaky = body.roles.find((x) => x.role === 'flaky') as RoleStats;
    expect(flaky.failed).toBe(1);
    expect(flaky.error_rate).toBe(1);
  });

  it('prints readable tables', async () => {
    const r = await sup.cli(['background', 'metrics']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Tasks \(last 15m\)/);
    expect(r.stdout).toMatch(/deva_ts\s+4\s+0\s+0\.0%/);
    expect(r.stdout).toMatch(/LLM usage/);
    expect(r.stdout).toMatch(/flaky\s+0\s+1\s+100\.0%/);
  });

  it('rejects a bad window with a clear error', async () => {
    const r = await sup.cli(['background', 'metrics', '--window', 'forever']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/window/);
  });
});
