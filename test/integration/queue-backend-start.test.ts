import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/realPrometheus.js';
import { ROOT, cleanup, processesWith, runCli, startSupervisor, waitFor, writeConfig, type RunningSupervisor } from '../helpers/harness.js';
import { startPostgres, type RealPostgres } from '../helpers/postgres.js';

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const CLAUDE_RUN = path.join(ROOT, 'test/fixtures/agents/claudeRun.mjs');
const dirs: string[] = [];
let server: RealPostgres;
let sup: RunningSupervisor | undefined;
beforeAll(async () => { server = await startPostgres(); }, 180_000);
afterAll(async () => {
  cleanup(sup);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await server?.stop();
});

const pgQueue = { backend: 'postgres', postgres: { url_env: 'AGENTIC_TEST_QUEUE_URL' } };

describe('background.queue.backend: postgres at start', () => {
  it('a bad URL setting exits 2 naming the key (never echoing the password), having created and locked nothing', async () => {
    const c = writeConfig({ agents: [{ name: 'w', command: ['node', WORKER] }], queue: pgQueue });
    dirs.push(c.dir);
    const unset = await runCli(['background', 'start', '--foreground', '--config', c.file], { env: { AGENTIC_TEST_QUEUE_URL: '' } });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('background.queue.postgres.url_env: expected the environment variable AGENTIC_TEST_QUEUE_URL to hold the PostgreSQL connection URL, got it empty');
    const wrong = await runCli(['background', 'start', '--foreground', '--config', c.file], { env: { AGENTIC_TEST_QUEUE_URL: 'mysql://agentic:s3cret@127.0.0.1/agentic' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('background.queue.postgres.url_env: expected a URL starting postgres:// or postgresql://, got mysql://');
    expect(wrong.stderr).not.toContain('s3cret');
    expect(existsSync(path.join(c.stateDir, 'supervisor.lock'))).toBe(false);
    expect(existsSync(path.join(c.stateDir, 'state.db'))).toBe(false);
  });

  it('a server that does not answer: the start fails with exit 1, saying where (password hidden) and what to check; no agent is left', async () => {
    const c = writeConfig({ agents: [{ name: 'w', command: ['node', WORKER, 'unreachable-pg-marker'] }], queue: pgQueue });
    dirs.push(c.dir);
    const port = await freePort();
    const r = await runCli(['background', 'start', '--foreground', '--config', c.file], { env: { AGENTIC_TEST_QUEUE_URL: `postgres://agentic:s3cret@127.0.0.1:${port}/agentic` } });
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toContain(`could not connect to PostgreSQL at postgres://agentic:***@127.0.0.1:${port}/agentic`);
    expect(r.stderr + r.stdout).not.toContain('s3cret');
    expect(processesWith('unreachable-pg-marker')).toEqual([]);
    expect(r.stderr + r.stdout).not.toMatch(/TypeError|uncaught exception/); // the stop after a failed start is clean
  });

  it('starts on a real PostgreSQL: the migrations ran, tasks go through it, and `status` says the queue is the fleet\'s', async () => {
    sup = await startSupervisor({ agents: [{ name: 'w', command: ['node', WORKER] }], queue: pgQueue }, { env: { AGENTIC_TEST_QUEUE_URL: server.url } });
    expect(sup.output()).toContain('task queue and checkpoints on PostgreSQL at postgres://postgres@127.0.0.1');
    const r = await sup.api<{ task: { id: string } }>('POST', '/api/v1/tasks', { role: 'w', title: 'through postgres', payload: { work_ms: 10 } });
    expect(r.status).toBe(201);
    const done = await waitFor('completion', async () => { const t = (await sup!.api<{ task: { status: string } }>('GET', `/api/v1/tasks/${r.body.task.id}`)).body.task; return t.status === 'completed' ? t : undefined; }, 60_000);
    expect(done.status).toBe('completed');
    const status = (await sup.api<{ queue: { scope: string; by_status: Record<string, number> } }>('GET', '/api/v1/status')).body.queue;
    expect(status).toMatchObject({ scope: 'fleet', by_status: { completed: 1 } });
    const metrics = await (await fetch(`${sup.url}/metrics`)).text();
    expect(metrics).toMatch(/^agentic_queue_depth\{scope="fleet",role="w",priority_band="normal"\} 0$/m);
  }, 120_000);

  it('per_task runs on PostgreSQL: a failed run is retried, each attempt recorded with its slot and usage; `stats` computes performance from the fleet\'s tables', async () => {
    cleanup(sup);
    const tmp = mkdtempSync(path.join(tmpdir(), 'pg-per-task-'));
    dirs.push(tmp);
    const marker = path.join(tmp, 'failed-once');
    sup = await startSupervisor({
      agents: [{ name: 'c', mode: 'per_task', command: ['node', CLAUDE_RUN, '{prompt}'], stdout_adapter: 'claude-stream-json', env: { CLAUDE_RUN_FAIL_FIRST: marker, CLAUDE_RUN_COST: '0.08' } }],
      queue: { ...pgQueue, retry_backoff: { initial: 0.1 } },
    }, { env: { AGENTIC_TEST_QUEUE_URL: server.url } });
    const r = await sup.api<{ task: { id: string } }>('POST', '/api/v1/tasks', { role: 'c', title: 'a story', prompt: 'do it' });
    expect(r.status).toBe(201);
    type T = { status: string; attempts: number; attempt_history: { cause: string; replica: string | null; llm: { total_cost_usd: number } | null }[] };
    const done = await waitFor('completion', async () => { const t = (await sup!.api<{ task: T }>('GET', `/api/v1/tasks/${r.body.task.id}`)).body.task; return t.status === 'completed' ? t : undefined; }, 60_000);
    expect(done.attempts).toBe(2);
    expect(done.attempt_history.map((h) => [h.cause, h.replica])).toEqual([['agent_failed', '0'], ['completed', '0']]);
    const stats = (await sup.api<{ roles: { role: string; completed: number; llm: { cost_usd: number; runs: number } }[] }>('GET', '/api/v1/stats?window=1h')).body.roles;
    const c = stats.find((x) => x.role === 'c');
    expect(c).toMatchObject({ completed: 1, llm: { runs: 2 } });
    expect(c?.llm.cost_usd).toBeCloseTo(0.04 + 0.08, 6);
  }, 120_000);

  it('refuses an inline URL in the config when it is loaded (exit 2), without echoing it', async () => {
    const c = writeConfig({ agents: [{ name: 'w', command: ['node', WORKER] }], queue: { backend: 'postgres', postgres: { url: 'postgres://agentic:s3cret@db/agentic' } } });
    dirs.push(c.dir);
    const r = await runCli(['background', 'start', '--foreground', '--config', c.file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('background.queue.postgres.url: expected url_env or url_file: a connection URL holds the password and is never written in the config, got an inline url');
    expect(r.stderr).not.toContain('s3cret');
  });
});
