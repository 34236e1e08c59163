import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/harness.js';

/**
 * The README as a new user follows it: install from the clone (`npm install -g .`, here
 * into a scratch prefix), then `start --config x.yaml`, `status`, `stop` from another
 * directory, with no --state-dir, though x.yaml puts its state somewhere else.
 */

const tmp = mkdtempSync(path.join(tmpdir(), 'readme-install-'));
const prefix = path.join(tmp, 'global');
const bin = path.join(prefix, 'bin', 'agentic-scrum-setup');
const elsewhere = path.join(tmp, 'elsewhere');
const stateDir = path.join(tmp, 'conf', 'state');
const config = path.join(tmp, 'conf', 'x.yaml');
const xdg = path.join(tmp, 'xdg');
let pid = 0;

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: opts.cwd ?? elsewhere, env: { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: xdg, ...opts.env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
const cli = (...args: string[]) => run(bin, ['background', ...args]);

beforeAll(() => {
  mkdirSync(elsewhere, { recursive: true });
  mkdirSync(path.dirname(config), { recursive: true });
  writeFileSync(config, stringify({ background: { state_dir: stateDir, server: { port: 0 }, agents: [{ name: 'qaa', command: ['sleep', '600'] }] } }));
});

afterAll(() => {
  try { process.kill(pid, 'SIGKILL'); } catch { /* stopped */ }
  try {
    const agents = (JSON.parse(readFileSync(path.join(stateDir, 'agents.pid.json'), 'utf8')) as { agents?: { pid: number }[] }).agents ?? [];
    for (const a of agents) try { process.kill(-a.pid, 'SIGKILL'); } catch { /* gone */ }
  } catch { /* no pid file */ }
  rmSync(tmp, { recursive: true, force: true });
});

describe('installed from the clone, used from any directory', () => {
  it('the README gives the install step, and the bin it installs runs outside the repository', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci && npm run build && npm install -g .');
    expect(readme).not.toContain('npx agentic-scrum-setup'); // npx looks for a package of that name, which is not ours
    const install = await run('npm', ['install', '-g', '.', '--prefix', prefix, '--offline', '--no-audit', '--no-fund'], { cwd: ROOT });
    expect(install.code, install.stderr).toBe(0);
    const version = await run(bin, ['--version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  }, 120_000);

  it('a plain status finds the supervisor `start --config x.yaml` started, and says where it looked', async () => {
    const start = await run(bin, ['background', 'start', '--config', config, '--ready-timeout', '120']);
    expect(start.code, start.stderr).toBe(0);
    pid = Number(/pid (\d+)/.exec(start.stdout)?.[1]);
    const status = await cli('status');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^qaa +qaa +qaa-0 /m);
    expect(status.stderr).toContain(`No supervisor in ${path.join(elsewhere, '.agentic/background')}: using the one last started, with --config ${config}, in ${stateDir}.`);
    const json = await cli('status', '--json');
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    expect((JSON.parse(json.stdout) as { supervisor: { pid: number } }).supervisor.pid).toBe(pid);
  }, 180_000);

  it('without that note (another user, another XDG_STATE_HOME) it says to pass --config', async () => {
    const r = await run(bin, ['background', 'status'], { env: { XDG_STATE_HOME: path.join(tmp, 'other-xdg') } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('pass that --config <file> (or --state-dir <dir>)');
  });

  it('a plain stop stops it; then status says no supervisor runs (exit 3)', async () => {
    const stop = await cli('stop', '--timeout', '120');
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain(`Supervisor (pid ${pid}) stopped`);
    const after = await cli('status');
    expect(after.code).toBe(3);
    expect(after.stderr).toContain('No supervisor is running for state directory');
  }, 180_000);
});
