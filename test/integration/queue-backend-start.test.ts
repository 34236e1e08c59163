import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, writeConfig } from '../helpers/harness.js';

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('background.queue.backend: postgres is refused at start until the supervisor is wired to it', () => {
  it('checks the connection settings, then exits 2 saying the backend is not wired yet, having created and locked nothing', async () => {
    const c = writeConfig({ agents: [{ name: 'w', command: ['node', WORKER] }], queue: { backend: 'postgres', postgres: { url_env: 'AGENTIC_TEST_QUEUE_URL' } } });
    dirs.push(c.dir);
    const unset = await runCli(['background', 'start', '--foreground', '--config', c.file], { env: { AGENTIC_TEST_QUEUE_URL: '' } });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('background.queue.postgres.url_env: expected the environment variable AGENTIC_TEST_QUEUE_URL to hold the PostgreSQL connection URL, got it empty');
    const r = await runCli(['background', 'start', '--foreground', '--config', c.file], { env: { AGENTIC_TEST_QUEUE_URL: 'postgres://agentic:s3cret@127.0.0.1:5432/agentic' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('background.queue.backend: expected "sqlite": the postgres backend not wired yet');
    expect(r.stderr).not.toContain('s3cret');
    expect(existsSync(path.join(c.stateDir, 'supervisor.lock'))).toBe(false);
    expect(existsSync(path.join(c.stateDir, 'state.db'))).toBe(false);
  });

  it('refuses an inline URL in the config when it is loaded (exit 2), without echoing it', async () => {
    const c = writeConfig({ agents: [{ name: 'w', command: ['node', WORKER] }], queue: { backend: 'postgres', postgres: { url: 'postgres://agentic:s3cret@db/agentic' } } });
    dirs.push(c.dir);
    const r = await runCli(['background', 'start', '--foreground', '--config', c.file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('background.queue.postgres.url: expected url_env or url_file: a connection URL holds the password and is never written in the config, got an inline url');
    expect(r.stderr).not.toContain('s3cret');
  });
});
