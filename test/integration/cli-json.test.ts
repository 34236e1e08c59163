import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerBackgroundCommands } from '../../src/cli/program.js';
import { CLI, ROOT, runCli, TEST_STATE_HOME, waitFor, writeConfig } from '../helpers/harness.js';

/**
 * `--json` on every `background` command: a real supervisor, started daemonized with
 * `start --json`, driven by each command with `--json`, and stopped with `stop --json`.
 * Every answer must parse and carry the keys docs/operations.md ("Machine-readable
 * output") documents; every failure is one JSON line on stderr with the usual exit code.
 */

type Json = Record<string, unknown>;
const parse = (s: string): Json => JSON.parse(s) as Json;
/** The JSON error a failing `--json` command prints on stderr. */
function jsonError(r: { stderr: string }): { code: string; message: string } {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  const e = parse(lines[0] as string);
  expect(e.ok).toBe(false);
  const err = e.error as { code: string; message: string };
  expect(typeof err.code).toBe('string');
  expect(err.message.length).toBeGreaterThan(0);
  return err;
}

/** Commands with no --json, on purpose (docs/operations.md says why). */
const NO_JSON = new Set(['completion']);

describe('every background command has --json, documented', () => {
  const bg = registerBackgroundCommands(new Command('agentic-scrum-setup'));
  const leaves = bg.commands.flatMap((c) => (c.commands.length ? c.commands.map((s) => ({ name: `${c.name()} ${s.name()}`, cmd: s })) : [{ name: c.name(), cmd: c }]));
  const docs = readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');
  const section = docs.slice(docs.indexOf('## Machine-readable output'), docs.indexOf('\n## ', docs.indexOf('## Machine-readable output') + 3));

  it.each(leaves.filter((l) => !NO_JSON.has(l.name)).map((l) => [l.name, l.cmd] as const))('%s', (name, cmd) => {
    expect(cmd.options.map((o) => o.long)).toContain('--json');
    expect(section, `docs/operations.md, Machine-readable output: a row for ${name}`).toContain(`| \`${name}`);
  });
});

describe('--json against a real supervisor', () => {
  const { dir, file, stateDir } = writeConfig({
    agents: [
      { name: 'qaa', command: ['sleep', '600'], replicas: 2 },
      { name: 'saa', command: ['sleep', '600'] },
      { name: 'deva', mode: 'per_task', command: ['sleep', '600'] },
    ],
  });
  const cli = (...args: string[]) => runCli(['background', ...args, '--state-dir', stateDir, '--json']);
  let pid = 0;

  beforeAll(async () => {
    const r = await runCli(['background', 'start', '--config', file, '--json', '--ready-timeout', '120'], { env: { MALLOC_ARENA_MAX: undefined, AGENTIC_DAEMON_ENV: undefined } });
    expect(r.code, r.stderr).toBe(0);
    const body = parse(r.stdout);
    expect(body).toMatchObject({ ok: true, action: 'start', state_dir: stateDir });
    expect(body.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(body.metrics_url).toBe(`${String(body.url)}/metrics`);
    expect(typeof body.log_dir).toBe('string');
    pid = body.pid as number;
    expect(pid).toBeGreaterThan(0);
  }, 180_000);

  afterAll(() => {
    // A test that failed half-way must leave no supervisor and no agent behind.
    try { process.kill(pid, 'SIGKILL'); } catch { /* stopped */ }
    try {
      const pids = parse(readFileSync(path.join(stateDir, 'agents.pid.json'), 'utf8')).agents as { pid: number }[] | undefined;
      for (const a of pids ?? []) try { process.kill(-a.pid, 'SIGKILL'); } catch { /* gone */ }
    } catch { /* no pid file */ }
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the daemon with its V8 options (a 2 MB young generation, start-up code dropped; docs/operations.md)', () => {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(argv.slice(1, argv.indexOf('background') - 1)).toEqual(['--max-semi-space-size=2', '--bytecode-old-age=1', '--flush-baseline-code']);
    expect(argv[argv.indexOf('background') - 1]).toMatch(/dist\/cli\/main\.js$/);
  });

  it('runs the daemon with one malloc arena, and its agents without it (docs/operations.md)', async () => {
    const environ = (p: number) => readFileSync(`/proc/${p}/environ`, 'utf8').split('\0');
    expect(environ(pid)).toEqual(expect.arrayContaining(['MALLOC_ARENA_MAX=1', 'AGENTIC_DAEMON_ENV=MALLOC_ARENA_MAX']));
    const agents = await waitFor('the agents to be recorded', () => {
      try {
        const a = parse(readFileSync(path.join(stateDir, 'agents.pid.json'), 'utf8')).agents as { pid: number }[] | undefined;
        return a && a.length >= 3 ? a : undefined;
      } catch { return undefined; }
    }, 60_000, 250);
    for (const a of agents) {
      const env = environ(a.pid);
      expect(env.some((kv) => kv.startsWith('MALLOC_ARENA_MAX=') || kv.startsWith('AGENTIC_DAEMON_ENV='))).toBe(false);
      expect(env).toEqual(expect.arrayContaining([expect.stringMatching(/^AGENTIC_AGENT_NAME=/), `PATH=${process.env.PATH}`])); // the rest of the environment is passed on
    }
  });

  it('a second start on the same config fails with exit 2 and a JSON error', async () => {
    const r = await runCli(['background', 'start', '--config', file, '--json']);
    expect(r.code).toBe(2);
    expect(jsonError(r).message).toContain('already running');
    expect(r.stdout).toBe('');
  });

  it('status, health, metrics, tasks, alerts, logs and monitor --once print their documented shapes', async () => {
    await waitFor('three replicas running', async () => (parse((await cli('status')).stdout).agents as { state: string }[]).filter((a) => a.state === 'running').length === 3, 60_000, 250);
    const status = parse((await cli('status')).stdout);
    expect(Object.keys(status)).toEqual(expect.arrayContaining(['supervisor', 'agents', 'fleet', 'queue']));
    const health = await cli('health');
    expect([0, 1, 2]).toContain(health.code);
    expect(Object.keys(parse(health.stdout))).toEqual(expect.arrayContaining(['verdict', 'system', 'agents']));
    expect(Object.keys(parse((await cli('metrics')).stdout))).toEqual(expect.arrayContaining(['window_seconds', 'roles', 'fleet', 'agents', 'system']));
    expect(Array.isArray(JSON.parse((await cli('tasks')).stdout))).toBe(true);
    expect(Array.isArray(JSON.parse((await cli('alerts')).stdout))).toBe(true);
    const logs = await cli('logs', '-n', '5');
    expect(logs.code, logs.stderr).toBe(0);
    const lines = logs.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(Object.keys(parse(l))).toEqual(expect.arrayContaining(['time', 'msg']));
    const mon = await cli('monitor', '--once');
    expect(mon.code, mon.stderr).toBe(0);
    const snap = parse(mon.stdout);
    expect(snap).toMatchObject({ connected: true, error: null });
    expect(Object.keys(snap)).toEqual(['at', 'connected', 'answered_at', 'error', 'status', 'health', 'completed_per_min', 'events']);
    expect((snap.status as Json).agents).toHaveLength(4);
  });

  it('monitor --json without --once prints one snapshot per line until interrupted, then exits 0', async () => {
    const p = spawn(process.execPath, [CLI, 'background', 'monitor', '--json', '--interval', '0.2', '--state-dir', stateDir], { env: { ...process.env, XDG_STATE_HOME: TEST_STATE_HOME } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    try {
      await waitFor('two snapshot lines', () => out.split('\n').length > 2, 60_000);
    } finally {
      p.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(parse(l)).toMatchObject({ connected: true, status: { agents: expect.any(Array) } });
  }, 120_000);

  it('restart and reset answer {ok, action, target, replicas}; an unknown agent exits 2 with code unknown_agent', async () => {
    const restart = await cli('restart', 'qaa');
    expect(restart.code, restart.stderr).toBe(0);
    expect(parse(restart.stdout)).toEqual({ ok: true, action: 'restart', target: 'qaa', replicas: ['qaa-0', 'qaa-1'] });
    const one = parse((await cli('restart', 'saa-0')).stdout);
    expect(one).toEqual({ ok: true, action: 'restart', target: 'saa-0', replicas: ['saa-0'] });
    const perTask = await cli('restart', 'deva');
    expect(perTask.code, perTask.stderr).toBe(0);
    expect(parse(perTask.stdout)).toEqual({ ok: true, action: 'restart', target: 'deva', replicas: [], runs: [] });
    const reset = await cli('reset', 'qaa');
    expect(reset.code, reset.stderr).toBe(0);
    expect(parse(reset.stdout)).toMatchObject({ ok: true, action: 'reset', target: 'qaa', replicas: ['qaa-0', 'qaa-1'] });
    for (const action of ['restart', 'reset']) {
      const r = await cli(action, 'nope');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(jsonError(r).code).toBe('unknown_agent');
    }
    const unhealthy = await cli('health', '--agent', 'nope');
    expect(unhealthy.code).toBe(64);
    expect(jsonError(unhealthy).code).toBe('unknown_agent');
  });

  it('submit, cancel and retry print the task; an unknown task exits 2 with code unknown_task', async () => {
    const sub = await cli('submit', 'qaa', '--title', 'json shape', '--id', 'JSON_1');
    expect(sub.code, sub.stderr).toBe(0);
    expect(parse(sub.stdout)).toMatchObject({ id: 'JSON_1', role: 'qaa', status: 'pending' });
    expect(typeof parse(sub.stdout).correlation_id).toBe('string');
    const cancel = parse((await cli('cancel', 'JSON_1')).stdout);
    expect(cancel).toMatchObject({ id: 'JSON_1', status: 'cancelled' });
    expect(Array.isArray(cancel.attempt_history)).toBe(true);
    expect(parse((await cli('retry', 'JSON_1')).stdout)).toMatchObject({ id: 'JSON_1', status: 'pending' });
    const unknown = await cli('cancel', 'NOT_THERE');
    expect(unknown.code).toBe(2);
    expect(jsonError(unknown).code).toBe('unknown_task');
    const again = await cli('retry', 'JSON_1');
    expect(again.code).toBe(2);
    expect(jsonError(again).code).toBe('wrong_status');
    const usage = await cli('submit', 'qaa');
    expect(usage.code).toBe(2);
    expect(jsonError(usage)).toEqual({ code: 'usage', message: 'Missing --title "<text>".' });
  });

  it('priority prints the re-prioritised task; a bad priority, an unknown task and a task that is not pending exit 2 with their codes', async () => {
    expect((await cli('submit', 'qaa', '--title', 'to re-prioritise', '--id', 'JSON_P', '--priority', '2')).code).toBe(0);
    const p = await cli('priority', 'JSON_P', '9');
    expect(p.code, p.stderr).toBe(0);
    const task = parse(p.stdout);
    expect(task).toMatchObject({ id: 'JSON_P', status: 'pending', priority: 9 });
    expect(Array.isArray(task.attempt_history)).toBe(true);
    for (const bad of ['0', '11', 'high', '2.5']) {
      const r = await cli('priority', 'JSON_P', bad);
      expect(r.code, bad).toBe(2);
      expect(jsonError(r).code).toBe('bad_priority');
    }
    const unknown = await cli('priority', 'NOT_THERE', '5');
    expect(unknown.code).toBe(2);
    expect(jsonError(unknown).code).toBe('unknown_task');
    expect((await cli('cancel', 'JSON_P')).code).toBe(0);
    const cancelled = await cli('priority', 'JSON_P', '5');
    expect(cancelled.code).toBe(2);
    expect(jsonError(cancelled)).toMatchObject({ code: 'wrong_status', message: expect.stringContaining('only pending tasks can be re-prioritised') });
    expect(parse((await cli('tasks', '--status', 'cancelled')).stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'JSON_P', priority: 9 })]));
  });

  it('commander\'s own errors and the commands that need no supervisor answer in JSON too', async () => {
    const unknownOption = await cli('status', '--bogus');
    expect(unknownOption.code).toBe(2);
    expect(jsonError(unknownOption)).toEqual({ code: 'unknown_option', message: 'unknown option \'--bogus\'' });
    const render = await runCli(['background', 'alerting', 'render', '--config', file, '--out', path.join(dir, 'am'), '--controller-url', 'http://127.0.0.1:9465', '--json']);
    expect(render.code, render.stderr).toBe(0);
    const rendered = parse(render.stdout);
    expect(rendered).toMatchObject({ ok: true, action: 'alerting render', controller_url: 'http://127.0.0.1:9465/api/v1/alerts' });
    expect(rendered.files).toContain(path.join(dir, 'am', 'alertmanager.yml'));
    const noUrl = await runCli(['background', 'alerting', 'render', '--config', file, '--out', path.join(dir, 'am2'), '--json']);
    expect(noUrl.code).toBe(2);
    expect(jsonError(noUrl).message).toContain('--controller-url');
    const controller = await runCli(['background', 'controller', '--json']);
    expect(controller.code).toBe(2);
    expect(jsonError(controller).message).toContain('--supervisor');
    const conformance = await runCli(['background', 'conformance', '--json']);
    expect(conformance.code).toBe(2);
    expect(jsonError(conformance).code).toBe('missing_argument');
  });

  it('stop --json answers once the supervisor has exited; then status --json exits 3 with code not_running', async () => {
    const stop = await cli('stop', '--timeout', '120');
    expect(stop.code, stop.stderr).toBe(0);
    expect(parse(stop.stdout)).toEqual({ ok: true, action: 'stop', pid, state_dir: stateDir });
    const status = await cli('status');
    expect(status.code).toBe(3);
    expect(jsonError(status).code).toBe('not_running');
  }, 180_000);
});
