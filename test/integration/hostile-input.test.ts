/**
 * Issue 11, "No input can crash the supervisor": each input that used to crash
 * `start` or the supervisor, reproduced against the real CLI and real processes.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, cleanup, processesWith, runCli, startSupervisor, taskEnded, waitFor, writeConfig, type RunningSupervisor } from '../helpers/harness.js';
import { firstControlChar } from '../helpers/controlChars.js';

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');

/** An agent whose argv carries `marker` and which creates `file` as soon as it runs. */
const markedAgent = (marker: string, file: string) => ({
  name: 'marked',
  command: ['node', '-e', 'require("fs").writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 1000)', file, marker],
  stop_timeout: 2,
});

function occupyPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
    server.on('error', reject);
  });
}

/** Runs the CLI while watching /proc for a process whose argv has `marker`; returns its result and every pid seen. */
async function runWatching(args: string[], marker: string) {
  const seen = new Set<number>();
  let done = false;
  const watch = (async () => {
    while (!done) {
      for (const pid of processesWith(marker)) seen.add(pid);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const r = await runCli(args);
  done = true;
  await watch;
  return { ...r, seen: [...seen] };
}

describe('start refuses what it cannot run, with exit 2 and one clear line', () => {
  let busy: { server: Server; port: number };
  const dirs: string[] = [];
  beforeAll(async () => { busy = await occupyPort(); });
  afterAll(() => {
    busy.server.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const mode of ['--foreground', 'daemonized'] as const) {
    it(`a port in use (${mode}): exit 2, names the address and what to do, and no agent was ever started`, async () => {
      const marker = `busyport-${randomUUID().slice(0, 8)}`;
      const { dir, file, stateDir } = writeConfig({});
      dirs.push(dir);
      const ran = path.join(dir, 'agent-ran');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/port: 0/, `port: ${busy.port}`) + `  agents:\n    - ${JSON.stringify(markedAgent(marker, ran))}\n`);
      const args = ['background', 'start', '--config', file, ...(mode === '--foreground' ? ['--foreground'] : [])];
      const r = await runWatching(args, marker);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${busy.port} \\(background\\.server\\.host and background\\.server\\.port.*already in use.*No agent was started.*--port`));
      expect(r.stderr).not.toMatch(/\n\s+at |Unexpected error/);
      expect(r.seen, 'an agent process was spawned').toEqual([]);
      expect(existsSync(ran), 'the agent ran').toBe(false);
      expect(existsSync(path.join(stateDir, 'endpoint.json'))).toBe(false);
    });
  }

  it('a 2 MB command argument: exit 2 naming the key and the limit, before anything starts', async () => {
    const { dir, file, stateDir } = writeConfig({ agents: [{ name: 'big', command: ['node', 'x'.repeat(2 * 1024 * 1024)] }] });
    dirs.push(dir);
    const r = await runCli(['background', 'start', '--config', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('background.agents[0].command[1]: expected an argument of at most 131071 bytes (Linux refuses a longer one: MAX_ARG_STRLEN is 128 KiB), got 2097152 bytes');
    expect(r.stderr).toContain('background.agents[0].command: expected a command line of at most 1048576 bytes in all');
    expect(r.stderr).not.toMatch(/Unexpected error|E2BIG/);
    expect(r.stderr.length).toBeLessThan(2000);
    expect(existsSync(stateDir)).toBe(false);
  });

  it.each([
    ['an empty file', ''],
    ['background: without agents', 'background:\n  server:\n    port: 0\n'],
  ])('%s: exit 2, "no agents configured" at background.agents, and no supervisor', async (_name, text) => {
    const { dir, file, stateDir } = writeConfig({});
    dirs.push(dir);
    writeFileSync(file, text.replace('port: 0', `port: 0\n  state_dir: ${JSON.stringify(stateDir)}`));
    const r = await runCli(['background', 'start', '--config', file], { cwd: dir });
    // Before the fix this started a daemon: stop it, so that a regression leaves nothing running.
    for (const sd of [stateDir, path.join(dir, '.agentic/background')]) if (existsSync(path.join(sd, 'endpoint.json'))) await runCli(['background', 'stop', '--state-dir', sd]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/- background\.agents: expected at least one agent to supervise, got none \(no agents configured\); add a list under background:, for example "agents: \[\{name: qaa, command: \[node, qaa\.js\]\}\]"/);
    expect(r.stdout).not.toMatch(/Supervisor running/);
    expect(existsSync(path.join(stateDir, 'endpoint.json'))).toBe(false);
    expect(existsSync(path.join(dir, '.agentic'))).toBe(false);
  });

  it('a binary file: exit 2 with a short printable excerpt, its byte offset and line, never the raw bytes', async () => {
    const { dir, file } = writeConfig({});
    dirs.push(dir);
    writeFileSync(file, readFileSync(process.execPath).subarray(0, 64 * 1024)); // an ELF executable
    const r = await runCli(['background', 'start', '--config', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\(file\): expected a YAML text file \(UTF-8 without control characters\), got binary data: .* at byte offset \d+ \(line \d+, column \d+\), near "[^"]*"; check that --config names your YAML config file/);
    expect(r.stderr).toContain('\\x7fELF');
    expect(firstControlChar(r.stderr)).toBeUndefined();
    expect(r.stderr.length).toBeLessThan(1000);
  });
});

describe('a running supervisor against hostile agents and readers', () => {
  let sup: RunningSupervisor;
  const metric = async (re: RegExp) => Number(re.exec(await (await fetch(`${sup.url}/metrics`)).text())?.[1] ?? Number.NaN);

  beforeAll(async () => {
    sup = await startSupervisor({
      agents: [
        { name: 'twice', command: ['node', WORKER], env: { WORKER_SECOND_HELLO: '1' }, heartbeat_interval: 1, stop_timeout: 2 },
        // 20,000 lines (about 2 MB) in the log store for readers that go away, then a line every 200 ms for --follow
        { name: 'chatty', command: ['node', '-e', 'for (let i = 0; i < 20000; i++) console.log(`line ${i} ${"x".repeat(80)}`); setInterval(() => console.log(`tick ${Date.now()}`), 200)'], stop_timeout: 2 },
      ],
    });
  });
  afterAll(() => cleanup(sup));

  it('counts a second hello as a protocol error and keeps the first hello\'s capabilities', async () => {
    const errors = await waitFor('the duplicate_hello protocol error', async () => {
      const n = await metric(/^agentic_protocol_errors_total\{agent="twice",reason="duplicate_hello"\} (\S+)$/m);
      return n >= 1 ? n : undefined;
    });
    expect(errors).toBe(1);
    // still has "tasks": a queued task is assigned and completed
    const sub = await sup.api<{ task: { id: string } }>('POST', '/api/v1/tasks', { role: 'twice', title: 'after the second hello', payload: { work_ms: 10 } });
    expect(sub.status).toBe(201);
    const done = await taskEnded(sup, sub.body.task.id, 20_000);
    expect(done.status).toBe('completed');
    const row = (await sup.api<{ agents: { replica: string; restarts: number; sdk: string | null }[] }>('GET', '/api/v1/agents')).body.agents.find((a) => a.replica === 'twice-0');
    expect(row).toMatchObject({ restarts: 0, sdk: 'fixture-worker@1' });
    const log = readFileSync(path.join(sup.stateDir, 'logs', 'twice.log'), 'utf8');
    expect(log.match(/"msg":"welcomed"/g)).toHaveLength(1); // one welcome: the second hello got none
  });

  /** Runs the CLI with stdout into `reader` (a shell command) and returns its stderr and exit code. */
  function piped(args: string[], reader: string): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      const p = spawn('bash', ['-c', `${quoted} | ${reader} >/dev/null; exit "\${PIPESTATUS[0]}"`], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.on('exit', (code) => resolve({ code, stderr }));
    });
  }

  it.each([
    ['logs | head -n 1', ['background', 'logs'], 'head -n 1'],
    ['logs chatty --json | head -n 1', ['background', 'logs', 'chatty', '--json'], 'head -n 1'],
    ['status --json | a reader that closes at once', ['background', 'status', '--json'], 'true'],
    ['tasks --json | a reader that closes at once', ['background', 'tasks', '--json'], 'true'],
  ])('%s: ends quietly, exit 0, no stack trace', async (_name, args, reader) => {
    // The burst is over once a tick line is stored. Under load the store may drop part of
    // the burst (its queue is bounded, the drops counted); what the readers need is far
    // more than a pipe's 64 KiB buffer, so that the CLI is still writing when they go away.
    const f = path.join(sup.stateDir, 'logs', 'chatty.log');
    await waitFor('the chatty burst in the store', () => existsSync(f) && /tick \d{13}/.test(readFileSync(f, 'utf8')));
    expect(statSync(f).size).toBeGreaterThan(512 * 1024);
    const r = await piped([...args, '--state-dir', sup.stateDir], reader);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('logs --follow | head -n 1 ends too, instead of following forever', async () => {
    const r = await piped(['background', 'logs', 'chatty', '--follow', '--lines', '5', '--state-dir', sup.stateDir], 'head -n 1');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('the supervisor in the foreground outlives its console', () => {
  it('keeps supervising after the reader of its stdout went away, and stops cleanly', async () => {
    const { dir, file, stateDir } = writeConfig({ agents: [{ name: 'w', command: ['node', WORKER], stop_timeout: 2 }] });
    const p = spawn(process.execPath, [CLI, 'background', 'start', '--foreground', '--config', file], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    try {
      p.stdout.once('data', () => p.stdout.destroy()); // the reader goes away after its first chunk
      const endpoint = await waitFor('the endpoint', () => JSON.parse(readFileSync(path.join(stateDir, 'endpoint.json'), 'utf8')) as { url: string });
      const token = readFileSync(path.join(stateDir, 'api.token'), 'utf8').trim();
      for (let i = 0; i < 5; i++) { // each task logs several lines to the broken console
        const res = await fetch(`${endpoint.url}/api/v1/tasks`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'w', title: `t${i}`, payload: { work_ms: 10 } }) });
        expect(res.status).toBe(201);
      }
      await waitFor('five completed tasks', async () => {
        const res = await fetch(`${endpoint.url}/api/v1/tasks?status=completed`, { headers: { authorization: `Bearer ${token}` } });
        return ((await res.json()) as { tasks: unknown[] }).tasks.length === 5;
      });
      expect(p.exitCode).toBeNull();
      const stop = await runCli(['background', 'stop', '--state-dir', stateDir]);
      expect(stop.code, stop.stderr).toBe(0);
      await waitFor('the supervisor to exit', () => p.exitCode !== null);
      expect(p.exitCode).toBe(0);
      expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
