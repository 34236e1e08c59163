import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeAgentLine } from '../../src/protocol/codec.js';
import { LineDecoder } from '../../src/protocol/LineDecoder.js';
import { ENV as PROTOCOL_ENV, PROTOCOL_VERSION as PROTOCOL_V } from '../../src/protocol/messages.js';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { connect } from '../../src/sdk/connect.js';
import { ENV, PROTOCOL_VERSION } from '../../src/sdk/constants.js';
import { probeUrl } from '../../src/sdk/probe.js';

type Msg = Record<string, unknown> & { type: string };
const fixture = (name: string): string => fileURLToPath(new URL(name.startsWith('demo:') ? `../../examples/agents/${name.slice(5)}` : `../fixtures/agents/${name}`, import.meta.url));
const pkgVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Plays the supervisor for one real child process over its fd 3. */
class FakeSupervisor {
  readonly messages: Msg[] = [];
  readonly logs: Record<string, unknown>[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; at: number }>;
  private cursor = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly child: ChildProcess) {
    const channel = child.stdio[3] as Socket;
    const decoder = new LineDecoder((line) => this.push(this.messages, line));
    channel.on('data', (chunk: Buffer) => decoder.push(chunk));
    channel.on('error', () => {});
    const out = new LineDecoder((line) => this.push(this.logs, line));
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve({ code, at: performance.now() })));
  }

  get channel(): Socket {
    return this.child.stdio[3] as Socket;
  }

  send(message: Msg | string): void {
    this.channel.write(typeof message === 'string' ? `${message}\n` : `${JSON.stringify(message)}\n`);
  }

  welcome(settings: Record<string, number> = {}, checkpoint: unknown = null): void {
    this.send({
      type: 'welcome',
      protocol: 1,
      agent: { name: 'qaa', id: 'qaa-0', role: 'qaa', replica: 0 },
      checkpoint,
      settings: { heartbeat_interval_ms: 60_000, max_checkpoint_bytes: 1024, ...settings },
    });
  }

  /** Resolves with the next message (after earlier `next` calls) matching `pred`. */
  async next(pred: (m: Msg) => boolean, timeoutMs = 5000): Promise<Msg> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      for (; this.cursor < this.messages.length; this.cursor++) {
        const m = this.messages[this.cursor] as Msg;
        if (pred(m)) {
          this.cursor++;
          return m;
        }
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.messages.map((m) => m.type))}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  nextType(type: string, timeoutMs?: number): Promise<Msg> {
    return this.next((m) => m.type === type, timeoutMs);
  }

  /** Resolves with the first stdout JSON line matching `pred` (or whose msg equals the string). */
  async log(pred: string | ((l: Record<string, unknown>) => boolean), timeoutMs = 5000): Promise<Record<string, unknown>> {
    const match = typeof pred === 'string' ? (l: Record<string, unknown>) => l.msg === pred : pred;
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const found = this.logs.find(match);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no such log line (${String(pred)}); stdout: ${JSON.stringify(this.logs)}; stderr: ${this.stderr}`);
  }

  private push(into: Record<string, unknown>[], line: string): void {
    try {
      into.push(JSON.parse(line) as Msg);
    } catch {
      into.push({ type: '<not json>', raw: line });
    }
    for (const w of this.waiters.splice(0)) w();
  }
}

const children: ChildProcess[] = [];
function start(file = 'taskAgent.mjs', env: Record<string, string> = {}, withChannel = true): FakeSupervisor {
  const base: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'debug' };
  for (const key of Object.keys(base)) if (key.startsWith('AGENTIC_')) delete base[key];
  if (withChannel) base.AGENTIC_PROTOCOL_FD = '3';
  const child = spawn(process.execPath, [fixture(file)], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: { ...base, ...env } });
  children.push(child);
  return new FakeSupervisor(child);
}

async function connected(env: Record<string, string> = {}, settings: Record<string, number> = {}): Promise<FakeSupervisor> {
  const sup = start('taskAgent.mjs', env);
  await sup.nextType('hello');
  sup.welcome(settings);
  await sup.log('fixture ready');
  return sup;
}

const assign = (id: string, payload: unknown, extra: Record<string, unknown> = {}): Msg => ({
  type: 'task.assign',
  task: { id, role: 'qaa', title: `task ${id}`, payload, priority: 5, attempt: 1 },
  correlation_id: `corr-${id}`,
  ...extra,
});

beforeAll(() => {
  if (!existsSync(fileURLToPath(new URL('../../dist/sdk/index.js', import.meta.url)))) {
    throw new Error('dist/sdk/index.js is missing: run `npm run build` first (npm test does it in pretest).');
  }
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('Node SDK: handshake and liveness', () => {
  it('keeps its runtime constants equal to the protocol module', () => {
    expect(PROTOCOL_VERSION).toBe(PROTOCOL_V);
    for (const [key, value] of Object.entries(ENV)) expect(PROTOCOL_ENV[key as keyof typeof PROTOCOL_ENV]).toBe(value);
  });

  it('sends hello with protocol, pid, sdk and capabilities, then exposes the welcome identity and restored state', async () => {
    const sup = start();
    const hello = await sup.nextType('hello');
    expect(hello).toEqual({
      type: 'hello',
      protocol: 1,
      pid: sup.child.pid,
      sdk: { name: 'agentic-scrum-background', version: pkgVersion },
      capabilities: ['tasks', 'checkpoint', 'metrics'],
    });
    sup.welcome({}, { completed: 41, cursor: 'abc' });
    const ready = await sup.log('fixture ready');
    expect(ready).toMatchObject({ restored: { completed: 41, cursor: 'abc' }, connected: true, name: 'qaa', id: 'qaa-0', role: 'qaa' });
    expect(ready).toMatchObject({ agent: 'qaa', agent_id: 'qaa-0', role: 'qaa' });
    // The interval is 60 s: this heartbeat is the one sent right after the welcome.
    expect(await sup.nextType('heartbeat', 2000)).toMatchObject({ type: 'heartbeat' });
  });

  it('answers each ping with a pong carrying the same id', async () => {
    const sup = await connected();
    for (const id of [7, 8, 9]) sup.send({ type: 'ping', id });
    const pongs = [await sup.nextType('pong'), await sup.nextType('pong'), await sup.nextType('pong')];
    expect(pongs.map((p) => p.id)).toEqual([7, 8, 9]);
  });

  it('sends heartbeats at the welcome interval with heap and event-loop figures', async () => {
    const sup = await connected({}, { heartbeat_interval_ms: 100 });
    await new Promise((r) => setTimeout(r, 1200));
    // One right after the welcome, then one per 100 ms.
    const beats = sup.messages.filter((m) => m.type === 'heartbeat');
    expect(beats.length).toBeGreaterThanOrEqual(8);
    expect(beats.length).toBeLessThanOrEqual(16);
    for (const b of beats) {
      expect(b.heap_used_bytes).toBeGreaterThan(1024 * 1024);
      expect(b.event_loop_lag_ms).toBeGreaterThanOrEqual(0);
      expect(b.event_loop_lag_ms).toBeLessThan(1000);
    }
    // An idle agent: at least one window shows (almost) no lag.
    expect(Math.min(...beats.map((b) => b.event_loop_lag_ms as number))).toBeLessThan(15);
  });

  it('reports a blocked event loop as event-loop lag in the next heartbeat', async () => {
    const sup = await connected({}, { heartbeat_interval_ms: 100 });
    sup.send(assign('BLK', { block_ms: 400 }));
    await sup.nextType('task.finished');
    const [first, second] = [await sup.nextType('heartbeat'), await sup.nextType('heartbeat')];
    expect(first?.event_loop_lag_ms).toBeGreaterThanOrEqual(300);
    expect(first?.event_loop_lag_ms).toBeLessThan(1000);
    // Counted once: the window after the block does not report it again.
    expect(second?.event_loop_lag_ms).toBeLessThan(300);
  });

  it('reports the heap after a major GC once one happened', async () => {
    const sup = await connected({}, { heartbeat_interval_ms: 100 });
    const before = await sup.nextType('heartbeat');
    expect(before.heap_after_gc_bytes).toBeUndefined();
    sup.send(assign('GC', { gc: true }));
    await sup.nextType('task.finished');
    const beat = await sup.next((m) => m.type === 'heartbeat' && m.heap_after_gc_bytes !== undefined, 2000);
    expect(beat.heap_after_gc_bytes).toBeGreaterThan(1024 * 1024);
    expect(beat.heap_after_gc_bytes).toBeLessThan(512 * 1024 * 1024);
  });

  it('rejects connect with code WELCOME_TIMEOUT when no welcome arrives', async () => {
    const sup = start('taskAgent.mjs', { FIXTURE_WELCOME_TIMEOUT_MS: '300' });
    await sup.nextType('hello');
    const { code } = await sup.exited;
    expect(code).toBe(3);
    expect(await sup.log((l) => l.fixture === 'connect_failed')).toMatchObject({ code: 'WELCOME_TIMEOUT' });
  });
});

describe('Node SDK: tasks', () => {
  it('gives the handler the delivery number (task.assign attempt) as task.attempt and ctx.attempt, so it can be idempotent', async () => {
    const sup = await connected();
    sup.send({ ...assign('T7', { echo: 'again' }), task: { id: 'T7', role: 'qaa', title: 'task T7', payload: { echo: 'again' }, priority: 5, attempt: 3 } });
    expect(await sup.nextType('task.finished')).toMatchObject({ task_id: 'T7', result: { echo: 'again', attempt: 3, task_attempt: 3 } });
  });

  it('reports started, progress and finished, with the correlation and trace ids in the stdout logs', async () => {
    const sup = await connected();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    sup.send(assign('T1', { steps: 3, echo: 'hi' }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }));
    expect(await sup.nextType('task.started')).toEqual({ type: 'task.started', task_id: 'T1', correlation_id: 'corr-T1' });
    const progress = [await sup.nextType('task.progress'), await sup.nextType('task.progress'), await sup.nextType('task.progress')];
    expect(progress.map((p) => p.progress)).toEqual([1 / 3, 2 / 3, 1]);
    expect(progress[0]).toMatchObject({ task_id: 'T1', message: 'step 1' });
    const finished = await sup.nextType('task.finished');
    expect(finished).toMatchObject({ task_id: 'T1', result: { echo: 'hi', protocol_errors: 0, trace_id_seen: traceId } });
    expect(finished.duration_ms).toBeGreaterThan(0);
    const working = await sup.log('fixture working');
    expect(working).toMatchObject({ agent: 'qaa', agent_id: 'qaa-0', role: 'qaa', task_id: 'T1', correlation_id: 'corr-T1', trace_id: traceId });
    expect(await sup.log('task finished')).toMatchObject({ task_id: 'T1', correlation_id: 'corr-T1' });
  });

  it('runs tasks one at a time, in arrival order', async () => {
    const sup = await connected();
    sup.send(assign('A', { sleep_ms: 200 }));
    sup.send(assign('B', {}));
    await sup.next((m) => m.type === 'task.finished' && m.task_id === 'B');
    const order = sup.messages.filter((m) => m.type.startsWith('task.')).map((m) => `${m.type}:${String(m.task_id)}`);
    expect(order).toEqual(['task.started:A', 'task.finished:A', 'task.started:B', 'task.finished:B']);
  });

  it('drops a queued task that is cancelled before it starts, without reporting it', async () => {
    const sup = await connected();
    sup.send(assign('A', { sleep_ms: 300 }));
    sup.send(assign('B', {}));
    await sup.nextType('task.started');
    sup.send({ type: 'task.cancel', task_id: 'B', reason: 'withdrawn' });
    await sup.next((m) => m.type === 'task.finished' && m.task_id === 'A');
    sup.send(assign('C', {}));
    await sup.next((m) => m.type === 'task.finished' && m.task_id === 'C');
    expect(sup.messages.filter((m) => m.task_id === 'B')).toEqual([]);
  });

  it('reports a thrown error as retryable and a PermanentTaskError as not retryable', async () => {
    const sup = await connected();
    sup.send(assign('F1', { fail: true }));
    const f1 = await sup.nextType('task.failed');
    expect(f1).toMatchObject({ task_id: 'F1', error: { message: 'transient failure', code: 'E_FLAKY' }, retryable: true });
    expect(f1.duration_ms).toBeGreaterThanOrEqual(0);
    sup.send(assign('F2', { fail: 'permanent' }));
    expect(await sup.nextType('task.failed')).toMatchObject({ task_id: 'F2', error: { message: 'input is invalid', code: 'BAD_INPUT' }, retryable: false });
  });

  it('aborts the task signal on task.cancel and reports it as a permanent CANCELLED failure', async () => {
    const sup = await connected();
    sup.send(assign('C1', { wait_abort: true }));
    await sup.nextType('task.started');
    sup.send({ type: 'task.cancel', task_id: 'C1', reason: 'timed out' });
    const failed = await sup.nextType('task.failed');
    expect(failed).toMatchObject({ task_id: 'C1', error: { code: 'CANCELLED' }, retryable: false });
    expect(String((failed.error as { message: string }).message)).toContain('timed out');
  });

  it('sends a checkpoint within the limit and throws CHECKPOINT_TOO_LARGE above it', async () => {
    const sup = await connected({}, { max_checkpoint_bytes: 1024 });
    sup.send(assign('K1', { checkpoint_bytes: 100 }));
    expect(await sup.nextType('checkpoint')).toEqual({ type: 'checkpoint', state: { blob: 'x'.repeat(100) } });
    expect(await sup.nextType('task.finished')).toMatchObject({ result: { checkpoint: 'sent' } });
    sup.send(assign('K2', { checkpoint_bytes: 2000 }));
    const finished = await sup.nextType('task.finished');
    expect(finished.result).toMatchObject({ checkpoint: 'rejected', code: 'CHECKPOINT_TOO_LARGE', name: 'CheckpointTooLargeError' });
    expect(sup.messages.filter((m) => m.type === 'checkpoint')).toHaveLength(1);
  });

  it('ignores and counts malformed supervisor lines and keeps working', async () => {
    const sup = await connected();
    for (const bad of ['not json', '[1,2]', '{"type":"nope"}', '{"type":"ping"}', '"str"']) sup.send(bad);
    sup.send('');
    sup.send({ type: 'ping', id: 1 });
    expect(await sup.nextType('pong')).toEqual({ type: 'pong', id: 1 });
    sup.send(assign('M1', { connectivity: true }));
    expect(await sup.nextType('connectivity')).toEqual({ type: 'connectivity', target: 'llm-api', ok: true, latency_ms: 12.5 });
    expect(await sup.nextType('task.finished')).toMatchObject({ result: { protocol_errors: 5 } });
    expect(sup.child.exitCode).toBeNull();
  });
});

describe('Node SDK: shutdown', () => {
  it('on shutdown aborts the running task, runs the hooks and exits 0 before the deadline', async () => {
    const sup = await connected({ FIXTURE_HOOK_MS: '200' });
    sup.send(assign('S1', { wait_abort: true }));
    await sup.nextType('task.started');
    const sent = performance.now();
    sup.send({ type: 'shutdown', deadline_ms: 3000, reason: 'stop requested' });
    expect(await sup.nextType('task.failed')).toMatchObject({ task_id: 'S1', error: { code: 'SHUTDOWN' }, retryable: true });
    expect(await sup.nextType('log')).toMatchObject({ level: 'info', msg: 'shutdown hook ran', fields: { reason: 'stop requested', deadline_ms: 3000 } });
    const { code, at } = await sup.exited;
    expect(code).toBe(0);
    expect(at - sent).toBeGreaterThanOrEqual(190);
    expect(at - sent).toBeLessThan(3000);
  });

  it('bounds a hook that never returns by the shutdown deadline', async () => {
    const sup = await connected({ FIXTURE_HOOK_HANGS: '1' });
    const sent = performance.now();
    sup.send({ type: 'shutdown', deadline_ms: 600, reason: 'stop' });
    const { code, at } = await sup.exited;
    expect(code).toBe(0);
    expect(at - sent).toBeGreaterThanOrEqual(400);
    expect(at - sent).toBeLessThan(2000);
  });

  it('exits 0 when the channel reaches end-of-file (the supervisor is gone)', async () => {
    const sup = await connected({ FIXTURE_HOOK_MS: '50' });
    sup.channel.end();
    const { code } = await sup.exited;
    expect(code).toBe(0);
    expect(await sup.log('shutting down')).toMatchObject({ reason: 'the supervisor closed the channel' });
  });

  it('treats SIGTERM as a shutdown: hooks run, then exit 0', async () => {
    const sup = await connected();
    sup.child.kill('SIGTERM');
    expect(await sup.nextType('log')).toMatchObject({ msg: 'shutdown hook ran', fields: { reason: 'SIGTERM' } });
    expect((await sup.exited).code).toBe(0);
  });

  it('runs the hooks when the shutdown message and SIGTERM arrive together (as the supervisor stops an agent)', async () => {
    const sup = await connected({ FIXTURE_HOOK_MS: '200' });
    sup.send({ type: 'shutdown', deadline_ms: 2000, reason: 'stop' });
    sup.child.kill('SIGTERM');
    const hook = await sup.nextType('log');
    expect(hook).toMatchObject({ msg: 'shutdown hook ran' });
    expect((hook.fields as { reason: string }).reason).toMatch(/^(stop|SIGTERM)$/); // whichever came first
    expect((await sup.exited).code).toBe(0);
  });
});

describe('Node SDK: the agent\'s own metrics', () => {
  type Metric = { name: string; kind: string; points: { attributes?: Record<string, string>; value?: number; count?: number }[] };
  const metricsOf = (m: Msg): Metric[] => (m.resource_metrics as { scope_metrics: { metrics: Metric[] }[] }).scope_metrics.flatMap((s) => s.metrics);
  const storyItems = (m: Msg): number => metricsOf(m).find((x) => x.name === 'fixture.items_processed')?.points.find((p) => p.attributes?.kind === 'story')?.value ?? -1;

  it('sends what the agent records through @opentelemetry/api as a metrics message every interval, with cumulative values', async () => {
    const sup = start('customMetricsAgent.mjs', { FIXTURE_METRICS_INTERVAL_MS: '100' });
    expect(await sup.nextType('hello')).toMatchObject({ capabilities: ['tasks', 'metrics'] });
    sup.welcome({ max_line_bytes: 64 * 1024 });
    const first = await sup.nextType('metrics');
    expect(metricsOf(first).map((m) => [m.name, m.kind]).sort()).toEqual([
      ['agentic_fixture_impostor', 'counter'], // the supervisor refuses it; the SDK sends what it was given
      ['fixture.items_in_flight', 'gauge'],
      ['fixture.items_processed', 'counter'],
      ['fixture.step_duration_seconds', 'histogram'],
    ]);
    expect(decodeAgentLine(JSON.stringify(first)).ok).toBe(true);
    await sup.next((m) => m.type === 'metrics' && storyItems(m) > storyItems(first));
  });

  it('sends a last metrics message at shutdown, before the channel closes', async () => {
    const sup = start('customMetricsAgent.mjs', { FIXTURE_METRICS_INTERVAL_MS: '600000' });
    await sup.nextType('hello');
    sup.welcome();
    await sup.log('custom metrics fixture ready');
    await new Promise((r) => setTimeout(r, 300));
    expect(sup.messages.filter((m) => m.type === 'metrics')).toEqual([]);
    sup.send({ type: 'shutdown', deadline_ms: 2000, reason: 'stop' });
    expect(storyItems(await sup.nextType('metrics'))).toBeGreaterThan(1);
    expect((await sup.exited).code).toBe(0);
  });

  it('with `metrics: false` announces no metrics capability', async () => {
    const sup = start('taskAgent.mjs', { FIXTURE_NO_METRICS: '1' });
    expect(await sup.nextType('hello')).toMatchObject({ capabilities: ['tasks', 'checkpoint'] });
  });

  it('rejects a metrics interval that is not a positive number', async () => {
    await expect(connect({ metrics: { intervalMs: 0 }, env: {} })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('`metrics.intervalMs`') as unknown });
  });
});

describe('Node SDK: no-op mode', () => {
  it('runs standalone without AGENTIC_PROTOCOL_FD and exits cleanly on its own', async () => {
    const sup = start('standaloneAgent.mjs', {}, false);
    const { code } = await sup.exited;
    expect(code).toBe(0);
    expect(sup.stderr).toBe('');
    const done = await sup.log('standalone done');
    expect(done).toMatchObject({ connected: false, value: 7, tooBig: 'CHECKPOINT_TOO_LARGE', hookRan: true, closeReason: 'closed by the agent', restored: null });
    expect(done).toMatchObject({ agent: 'standalone-demo', role: 'qaa' });
    expect(await sup.log('tracked work')).toMatchObject({ task_id: expect.stringMatching(/^local-work-/) as unknown });
    expect(await sup.log('protocol log in no-op mode')).toMatchObject({ level: 40, n: 1 });
  });
});

describe('demo agents (examples/agents, through the package export)', () => {
  async function demo(file: string, checkpoint: unknown, settings: Record<string, number> = {}): Promise<FakeSupervisor> {
    const sup = start(`demo:${file}`);
    expect(await sup.nextType('hello')).toMatchObject({ capabilities: ['tasks', 'checkpoint', 'metrics'] });
    sup.welcome(settings, checkpoint);
    await sup.log('demo agent started');
    return sup;
  }

  it('qaa resumes its completed count from the checkpoint and checkpoints after a task', async () => {
    const sup = await demo('qaa.mjs', { completed: 4 });
    expect(await sup.nextType('connectivity')).toMatchObject({ target: 'llm-api.example', ok: true });
    sup.send(assign('Q1', { work_ms: 300 }));
    const progress = [];
    for (let i = 0; i < 3; i++) progress.push(await sup.nextType('task.progress'));
    expect(progress.every((p) => typeof p.message === 'string')).toBe(true);
    expect(await sup.nextType('checkpoint')).toMatchObject({ state: { completed: 5, last_task: 'Q1' } });
    expect(await sup.nextType('task.finished')).toMatchObject({ task_id: 'Q1', result: { completed_total: 5, tests_failed: 0 } });
  });

  it('saa fails on {fail: true} and exits 1 mid-task on {crash: true}', async () => {
    const sup = await demo('saa.mjs', null);
    sup.send(assign('S1', { work_ms: 150, fail: true }));
    expect(await sup.nextType('task.failed')).toMatchObject({ task_id: 'S1', error: { code: 'SIMULATED' }, retryable: true });
    sup.send(assign('S2', { work_ms: 150, crash: true }));
    await sup.nextType('task.progress');
    expect((await sup.exited).code).toBe(1);
    expect(sup.messages.some((m) => m.type === 'task.finished' && m.task_id === 'S2')).toBe(false);
  });

  it('sma plans through track() and a {hang: true} task keeps heartbeating until cancelled', async () => {
    const sup = await demo('sma.mjs', null, { heartbeat_interval_ms: 100 });
    expect(await sup.next((m) => m.type === 'task.started' && m.name === 'planning')).toMatchObject({ name: 'planning' });
    sup.send(assign('H1', { work_ms: 150, hang: true }));
    await sup.next((m) => m.type === 'task.progress' && m.task_id === 'H1');
    const hangAt = sup.messages.length;
    await new Promise((r) => setTimeout(r, 700));
    const later = sup.messages.slice(hangAt);
    expect(later.filter((m) => m.type === 'heartbeat').length).toBeGreaterThanOrEqual(4);
    expect(later.some((m) => m.task_id === 'H1')).toBe(false);
    sup.send({ type: 'task.cancel', task_id: 'H1', reason: 'stale' });
    expect(await sup.next((m) => m.type === 'task.failed' && m.task_id === 'H1')).toMatchObject({ error: { code: 'CANCELLED' }, retryable: false });
  });

  it('runs standalone without a supervisor and exits 0', async () => {
    const sup = start('demo:saa.mjs', {}, false);
    expect((await sup.exited).code).toBe(0);
    expect(await sup.log('demo agent stopping')).toMatchObject({ completed: 2 });
  });
});

describe('Node SDK: in-process pieces', () => {
  it('rejects bad options and a non-numeric fd with typed errors', async () => {
    await expect(connect({ welcomeTimeoutMs: -1, env: {} })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('`welcomeTimeoutMs`') as unknown });
    await expect(connect({ env: { AGENTIC_PROTOCOL_FD: 'three' } })).rejects.toMatchObject({ code: 'INVALID_FD' });
  });

  it('probes HTTP (status below 500 is reachable) and TCP, and reports failures as results', async () => {
    const http = createHttpServer((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 1000);
      res.statusCode = req.url === '/broken' ? 503 : 404;
      res.end();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    const closed = createTcpServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    try {
      expect(await probeUrl(`http://127.0.0.1:${port}/missing`, 2000)).toMatchObject({ ok: true });
      expect(await probeUrl(`http://127.0.0.1:${port}/broken`, 2000)).toMatchObject({ ok: false, error: 'HTTP 503' });
      const slow = await probeUrl(`http://127.0.0.1:${port}/slow`, 200);
      expect(slow).toMatchObject({ ok: false, error: 'no answer within 200 ms' });
      expect(slow.latencyMs).toBeGreaterThanOrEqual(150);
      expect(await probeUrl(`tcp://127.0.0.1:${port}`, 2000)).toMatchObject({ ok: true });
      expect(await probeUrl(`tcp://127.0.0.1:${closedPort}`, 2000)).toMatchObject({ ok: false, error: expect.stringContaining('ECONNREFUSED') as unknown });
      expect(await probeUrl('ftp://example.com', 2000)).toMatchObject({ ok: false, error: expect.stringContaining('unsupported') as unknown });
    } finally {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    }
  });
});
