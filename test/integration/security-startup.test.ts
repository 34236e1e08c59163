import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, cleanup, runCli, startSupervisor, waitFor, writeConfig } from '../helpers/harness.js';
import { alert, payload } from '../unit/controller/helpers.js';

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const mode = (f: string) => statSync(f).mode & 0o777;
const dirs: string[] = [];
const tempDir = () => { const d = mkdtempSync(path.join(tmpdir(), 'agentic-sec-')); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** A config whose state directory already holds `files` (name → content). */
function configWith(files: Record<string, string>, bg: Record<string, unknown> = {}) {
  const c = writeConfig({ agents: [{ name: 'w', command: ['node', WORKER] }], ...bg });
  dirs.push(c.dir);
  mkdirSync(c.stateDir, { recursive: true, mode: 0o700 });
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(c.stateDir, name), content, { mode: 0o600 });
  return c;
}

describe('token and password files are checked at start-up, and never rewritten', () => {
  it.each([
    ['api.token', { 'api.token': 'short-token\n' }, 'the API token file', 11],
    ['webhook.token', { 'webhook.token': 'tiny\n' }, 'the webhook token file', 4],
  ])('refuses to start (exit 2) with a %s shorter than 16 characters, naming it and the minimum, and leaves it as it was', async (name, files, what, len) => {
    const c = configWith(files);
    const r = await runCli(['background', 'start', '--foreground', '--config', c.file]);
    const file = path.join(c.stateDir, name);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`${what.replace(/^t/, 'T')} ${file} holds a token of ${len} characters; the minimum is 16. Put a longer one in it (e.g. openssl rand -hex 32 > ${file}), or delete the file to have one generated.`);
    expect(readFileSync(file, 'utf8')).toBe(Object.values(files)[0]);
    expect(existsSync(path.join(c.stateDir, 'endpoint.json'))).toBe(false);
    expect(existsSync(path.join(c.stateDir, 'supervisor.lock'))).toBe(false);
  });

  it('refuses to start in the background too (exit 2), saying why', async () => {
    const c = configWith({ 'api.token': 'short-token\n' });
    const r = await runCli(['background', 'start', '--config', c.file, '--ready-timeout', '60']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(c.stateDir, 'api.token')} holds a token of 11 characters; the minimum is 16`);
  });

  it('refuses to start (exit 2) when metrics_auth.password_file cannot be read, naming the key', async () => {
    const missing = path.join(tempDir(), 'nope.password');
    const c = configWith({}, { server: { port: 0, metrics_auth: { username: 'prometheus', password_file: missing } } });
    const r = await runCli(['background', 'start', '--foreground', '--config', c.file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('background.server.metrics_auth.password_file: expected a readable, non-empty file holding the /metrics password');
    expect(r.stderr).toContain(missing);
  });

  it('creates its own tokens 0600 and keeps a user\'s token of 16+ characters exactly as it was', async () => {
    const mine = 'users-own-api-token-0123456789\n';
    const c = configWith({ 'api.token': mine });
    const sup = await startSupervisor({ agents: [{ name: 'w', command: ['node', WORKER] }] });
    try {
      expect(mode(path.join(sup.stateDir, 'api.token'))).toBe(0o600);
      expect(mode(path.join(sup.stateDir, 'webhook.token'))).toBe(0o600);
      expect(readFileSync(path.join(sup.stateDir, 'webhook.token'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    } finally {
      await sup.stop();
      cleanup(sup);
    }
    const p = spawn(process.execPath, [CLI, 'background', 'start', '--foreground', '--config', c.file], { cwd: ROOT, stdio: 'ignore' });
    try {
      await waitFor('the supervisor to be ready', () => existsSync(path.join(c.stateDir, 'endpoint.json')));
      const { url } = JSON.parse(readFileSync(path.join(c.stateDir, 'endpoint.json'), 'utf8')) as { url: string };
      expect((await fetch(`${url}/api/v1/agents`, { headers: { authorization: `Bearer ${mine.trim()}` } })).status).toBe(200);
      expect(readFileSync(path.join(c.stateDir, 'api.token'), 'utf8')).toBe(mine);
    } finally {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    }
  });
});

describe('the standalone controller\'s --token-file', () => {
  const start = (args: string[]) => spawn(process.execPath, [CLI, 'background', 'controller', '--listen', '127.0.0.1:0', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const apiToken = () => { const f = path.join(tempDir(), 'api.token'); writeFileSync(f, `${'s'.repeat(32)}\n`, { mode: 0o600 }); return f; };

  it('refuses a token shorter than 16 characters (exit 2), naming the file and the minimum, and leaves the file as it was', async () => {
    const d = tempDir();
    const tokenFile = path.join(d, 'my.token');
    writeFileSync(tokenFile, 'abc\n', { mode: 0o644 });
    chmodSync(tokenFile, 0o644);
    const r = await runCli(['background', 'controller', '--listen', '127.0.0.1:0', '--supervisor', `http://127.0.0.1:9=${apiToken()}`, '--state-dir', path.join(d, 'state'), '--token-file', tokenFile]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`--token-file ${tokenFile} holds a token of 3 characters; the minimum is 16. Put a longer one in it (e.g. openssl rand -hex 32 > ${tokenFile}), or delete the file to have one generated.`);
    expect(readFileSync(tokenFile, 'utf8')).toBe('abc\n');
    expect(mode(tokenFile)).toBe(0o644);
  });

  it('serves with the user\'s token and leaves the file (content and mode) as it was', async () => {
    const d = tempDir();
    const tokenFile = path.join(d, 'my.token');
    const mine = 'alertmanager-token-of-the-user-42\n';
    writeFileSync(tokenFile, mine, { mode: 0o640 });
    chmodSync(tokenFile, 0o640);
    const p = start(['--supervisor', `http://127.0.0.1:9=${apiToken()}`, '--state-dir', path.join(d, 'state'), '--token-file', tokenFile]);
    let out = '';
    p.stdout?.on('data', (b) => (out += b));
    p.stderr?.on('data', (b) => (out += b));
    try {
      const url = await waitFor('the controller to listen', () => {
        if (p.exitCode !== null) throw new Error(`controller exited with ${p.exitCode}: ${out}`);
        return /listening on (http:\/\/127\.0\.0\.1:\d+)\/api\/v1\/alerts/.exec(out)?.[1];
      });
      const send = (token: string) => fetch(`${url}/api/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(payload(alert({ labels: { instance: 'nowhere:1' } }))) });
      expect((await send(mine.trim())).status).toBe(202);
      expect((await send('x'.repeat(32))).status).toBe(403);
      expect(readFileSync(tokenFile, 'utf8')).toBe(mine);
      expect(mode(tokenFile)).toBe(0o640);
      expect(existsSync(path.join(d, 'state', 'webhook.token'))).toBe(false);
    } finally {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    }
  });
});
