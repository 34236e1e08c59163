import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(ROOT, 'dist/cli/main.js');
/**
 * XDG_STATE_HOME of every CLI a test runs: `start` notes its state directory there
 * (src/cli/lastStart.ts), and a test must not write to the home of whoever runs it.
 */
export const TEST_STATE_HOME = path.join(tmpdir(), `agentic-test-xdg-${process.pid}`);

export interface RunningSupervisor {
  dir: string;
  stateDir: string;
  proc: ChildProcess;
  url: string;
  token: string;
  output: () => string;
  api<T = unknown>(method: string, p: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<number | null>;
}

/** A temp dir with a config file whose `background` section is `bg` (state_dir and port filled in). */
export function writeConfig(bg: Record<string, unknown>): { dir: string; file: string; stateDir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentic-test-'));
  const stateDir = path.join(dir, 'state');
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, stringify({ background: { state_dir: stateDir, server: { port: 0 }, ...bg } }));
  return { dir, file, stateDir };
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** A task as `GET /api/v1/tasks/:id` returns it; `T` names the fields a test reads. */
export async function taskOf<T extends { status: string } = { status: string }>(sup: RunningSupervisor, id: string): Promise<T> {
  return (await sup.api<{ task: T }>('GET', `/api/v1/tasks/${id}`)).body.task;
}

/** Waits until the task is completed or failed (terminal for these tests) and returns it. */
export function taskEnded<T extends { status: string } = { status: string }>(sup: RunningSupervisor, id: string, timeoutMs = 60_000): Promise<T> {
  return waitFor(`task ${id} to finish`, async () => {
    const t = await taskOf<T>(sup, id);
    return t.status === 'completed' || t.status === 'failed' ? t : undefined;
  }, timeoutMs);
}

export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: TEST_STATE_HOME, ...opts.env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * Starts a real supervisor in the foreground (a child process) and waits until it
 * is ready. `beforeStart` runs once the config is written, before the supervisor
 * starts (e.g. to mount a filesystem on the state directory).
 */
export async function startSupervisor(bg: Record<string, unknown>, opts: { env?: NodeJS.ProcessEnv; beforeStart?: (p: { dir: string; stateDir: string }) => void; readyTimeoutMs?: number } = {}): Promise<RunningSupervisor> {
  const { dir, file, stateDir } = writeConfig(bg);
  opts.beforeStart?.({ dir, stateDir });
  return launch(dir, file, stateDir, opts);
}

/** Starts a new supervisor on the same config and state directory (after a stop or a SIGKILL). */
export function restartSupervisor(prev: RunningSupervisor, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RunningSupervisor> {
  rmSync(path.join(prev.stateDir, 'endpoint.json'), { force: true });
  return launch(prev.dir, path.join(prev.dir, 'config.yaml'), prev.stateDir, opts);
}

async function launch(dir: string, file: string, stateDir: string, opts: { env?: NodeJS.ProcessEnv; readyTimeoutMs?: number }): Promise<RunningSupervisor> {
  const proc = spawn(process.execPath, [CLI, 'background', 'start', '--foreground', '--config', file], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: TEST_STATE_HOME, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  const endpoint = await waitFor('the supervisor endpoint', () => {
    if (proc.exitCode !== null) throw new Error(`supervisor exited with ${proc.exitCode}: ${out}`);
    return JSON.parse(readFileSync(path.join(stateDir, 'endpoint.json'), 'utf8')) as { url: string };
  }, opts.readyTimeoutMs ?? 60_000).catch((err: unknown) => { // a bound, not a wait: a start takes 1-3 s, 20 s and more at a load average of 25
    // Not ready in time: it must not outlive the test (nor its agents, in their own groups).
    if (proc.exitCode === null) proc.kill('SIGTERM');
    throw err;
  });
  const token = readFileSync(path.join(stateDir, 'api.token'), 'utf8').trim();
  const sup: RunningSupervisor = {
    dir, stateDir, proc, url: endpoint.url, token,
    output: () => out,
    async api<T>(method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(`${endpoint.url}${p}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
    },
    cli: (args) => runCli([...args, '--state-dir', stateDir]),
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
      proc.kill('SIGTERM');
      return exited;
    },
  };
  return sup;
}

export function cleanup(sup: RunningSupervisor | undefined): void {
  if (!sup) return;
  killAll(sup);
  rmSync(sup.dir, { recursive: true, force: true });
}

/** SIGKILLs the supervisor (if still running) and every agent process group in its pid file. */
export function killAll(sup: RunningSupervisor): void {
  if (sup.proc.exitCode === null) sup.proc.kill('SIGKILL');
  // A test that failed half-way must not leave agents running (a busy-looping
  // fixture would slow every later test): kill every group in the pid file.
  try {
    const pids = JSON.parse(readFileSync(path.join(sup.stateDir, 'agents.pid.json'), 'utf8')) as { agents?: { pid: number }[] };
    for (const a of pids.agents ?? []) {
      try { process.kill(-a.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  } catch {
    // no pid file
  }
}

/** Every live (non-zombie) process whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(marker)) out.push(pid);
    } catch {
      // gone
    }
  }
  return out;
}

