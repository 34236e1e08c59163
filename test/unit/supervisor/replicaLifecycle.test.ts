import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../src/config/loadConfig.js';
import type { ExitCause, RestartDecision, RestartPolicy } from '../../../src/recovery/RestartPolicy.js';
import { FixedDelayRestartPolicy } from '../../../src/recovery/RestartPolicy.js';
import { Replica } from '../../../src/supervisor/Replica.js';
import { FakeProcess } from '../../helpers/FakeProcess.js';

const agent = parseConfig({ background: { agents: [{ name: 'qaa', command: ['node', 'qaa.mjs'] }] } }).background.agents[0]!;

function setup(policy: RestartPolicy = new FixedDelayRestartPolicy(1000)) {
  const procs: FakeProcess[] = [];
  const r = new Replica(agent, 0, {
    policy,
    spawnSpec: () => ({ argv: agent.command, env: {}, maxLineBytes: 1024 }),
    restoredCheckpoint: () => ({ done: 7 }),
    settings: () => ({ heartbeat_interval_ms: 5000, max_checkpoint_bytes: 1024 }),
    createProcess: () => {
      const p = new FakeProcess();
      procs.push(p);
      queueMicrotask(() => p.emit('spawn'));
      return p;
    },
  });
  const states: string[] = [];
  r.on('state', (s) => states.push(s.kind));
  return { r, procs, states, last: () => procs[procs.length - 1] as FakeProcess };
}

describe('Replica lifecycle', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('goes starting → running once spawned, and welcomes a hello with the restored checkpoint', async () => {
    const { r, last, states } = setup();
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(states).toEqual(['starting', 'running']);
    last().emit('message', { type: 'hello', protocol: 1, pid: 1, capabilities: ['tasks'] });
    const welcome = last().sent[0];
    expect(welcome).toMatchObject({ type: 'welcome', agent: { name: 'qaa', id: 'qaa-0', replica: 0 }, checkpoint: { done: 7 } });
    expect(r.isIdle).toBe(true);
  });

  it('restarts a crashed replica after the policy delay, counting the crash', async () => {
    const { r, last, states, procs } = setup(new FixedDelayRestartPolicy(1000));
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    last().exit({ code: 1, signal: null });
    expect(r.state.kind).toBe('backoff');
    await vi.advanceTimersByTimeAsync(999);
    expect(procs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(procs).toHaveLength(2);
    expect(r.restarts).toEqual({ crash: 1 });
    expect(states).toEqual(['starting', 'running', 'backoff', 'starting', 'running'].slice(0, states.length));
  });

  it('hands back the task a crashed replica held', async () => {
    const { r, last } = setup();
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    last().emit('message', { type: 'hello', protocol: 1, pid: 1, capabilities: ['tasks'] });
    r.assign({ type: 'task.assign', task: { id: 'T1', role: 'qaa', title: 't', priority: 5, attempt: 1 }, correlation_id: 'c'.repeat(32) });
    const exits: (string | undefined)[] = [];
    r.on('exit', (_l, task) => exits.push(task?.id));
    last().exit({ code: null, signal: 'SIGKILL' });
    expect(exits).toEqual(['T1']);
    expect(r.task).toBeUndefined();
  });

  it('follows the policy: circuit_open waits for the trial start and escalates; give_up stays failed', async () => {
    const decisions: RestartDecision[] = [
      { action: 'circuit_open', retryAt: Date.now() + 60_000, reason: 'breaker open' },
      { action: 'give_up', reason: 'restart attempts exhausted' },
    ];
    const causes: ExitCause[] = [];
    const policy: RestartPolicy = { onFailure: (_id, cause) => { causes.push(cause); return decisions.shift() as RestartDecision; }, onStarted() {}, reset() {} };
    const { r, last, procs } = setup(policy);
    const escalations: string[] = [];
    r.on('escalate', (reason) => escalations.push(reason));
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    last().exit({ code: 3, signal: null });
    expect(r.state.kind).toBe('circuit_open');
    expect(escalations).toEqual(['circuit_open']);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(procs).toHaveLength(1); // no restart while open, however long
    await r.restart({ kind: 'alert', alertname: 'AgentHung' });
    expect(procs).toHaveLength(1); // an alert cannot override the breaker
    expect(r.trialStart()).toBe(true); // the supervisor calls this when dueTrials() names the replica
    await vi.advanceTimersByTimeAsync(0);
    expect(procs).toHaveLength(2);
    last().exit({ code: 3, signal: null });
    expect(r.state.kind).toBe('failed');
    expect(escalations).toEqual(['circuit_open', 'restarts_exhausted']);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(procs).toHaveLength(2);
    expect(causes[0]).toEqual({ kind: 'crash', code: 3, signal: null });
    r.reset();
    await vi.advanceTimersByTimeAsync(0);
    expect(procs).toHaveLength(3);
    expect(r.state.kind).toBe('running');
  });

  it('a manual restart stops the process and starts a new one at once, resetting the policy', async () => {
    const resets: string[] = [];
    const policy: RestartPolicy = { onFailure: () => ({ action: 'restart', delayMs: 5000, attempt: 1 }), onStarted() {}, reset: (id) => { resets.push(id); } };
    const { r, procs } = setup(policy);
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    await r.restart({ kind: 'manual' });
    await vi.advanceTimersByTimeAsync(0);
    expect(procs).toHaveLength(2);
    expect(procs[0]!.stopCalls).toEqual(['manual restart']);
    expect(r.restarts).toEqual({ manual: 1 });
    expect(resets).toEqual(['qaa-0']);
    expect(r.state.kind).toBe('running');
  });

  it('an unhealthy restart goes through the policy like a crash', async () => {
    const seen: ExitCause[] = [];
    const policy: RestartPolicy = { onFailure: (_i, c) => { seen.push(c); return { action: 'restart', delayMs: 2000, attempt: 1 }; }, onStarted() {}, reset() {} };
    const { r, procs } = setup(policy);
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    await r.restart({ kind: 'unhealthy', finding: 'no heartbeat for 30s' });
    expect(seen).toEqual([{ kind: 'unhealthy', finding: 'no heartbeat for 30s' }]);
    expect(r.state.kind).toBe('backoff');
    await vi.advanceTimersByTimeAsync(2000);
    expect(procs).toHaveLength(2);
    expect(r.restarts).toEqual({ unhealthy: 1 });
  });

  it('a restart after the task (drain) lets the task finish, takes no new one, then restarts', async () => {
    const { r, last, procs } = setup(new FixedDelayRestartPolicy(0));
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    last().emit('message', { type: 'hello', protocol: 1, pid: 1, capabilities: ['tasks'] });
    r.assign({ type: 'task.assign', task: { id: 'T1', role: 'qaa', title: 't', priority: 5, attempt: 1 }, correlation_id: 'c'.repeat(32) });
    const idle = vi.fn();
    r.on('idle', idle);
    await r.restartAfterTask({ kind: 'unhealthy', finding: 'leak' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(procs).toHaveLength(1);
    expect(r.state.kind).toBe('running');
    expect(r.task?.id).toBe('T1');
    r.releaseTask();
    expect(r.isIdle).toBe(false); // draining: no new task for this process
    expect(idle).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(0);
    expect(procs).toHaveLength(2);
    expect(r.draining).toBeUndefined();
    expect(r.restarts).toEqual({ unhealthy: 1 });
  });

  it('a restart after the task restarts at once when there is no task', async () => {
    const { r, procs } = setup(new FixedDelayRestartPolicy(0));
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    await r.restartAfterTask({ kind: 'unhealthy', finding: 'leak' });
    await vi.advanceTimersByTimeAsync(0);
    expect(procs).toHaveLength(2);
  });

  it('stop() ends in stopped and never restarts', async () => {
    const { r, procs } = setup();
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    await r.stop('test');
    expect(r.state.kind).toBe('stopped');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(procs).toHaveLength(1);
  });

  it('ping resolves with the round trip on pong and rejects after the timeout', async () => {
    const { r, last } = setup();
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    const p1 = r.ping(1000);
    const sent = last().sent.at(-1) as { type: string; id: number };
    expect(sent.type).toBe('ping');
    last().emit('message', { type: 'pong', id: sent.id });
    await expect(p1).resolves.toBeGreaterThanOrEqual(0);
    const p2 = r.ping(1000);
    const assertion = expect(p2).rejects.toThrow(/no pong within 1000 ms/);
    await vi.advanceTimersByTimeAsync(1000);
    await assertion;
  });

  it('refuses a second hello as a protocol error: the first hello\'s capabilities stay, no second welcome, no message', async () => {
    const { r, last } = setup();
    const errors: [string, string][] = [];
    const messages: string[] = [];
    r.on('protocolError', (reason, detail) => errors.push([reason, detail]));
    r.on('message', (m) => messages.push(m.type));
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    last().emit('message', { type: 'hello', protocol: 1, pid: 1, sdk: { name: 'first', version: '1' }, capabilities: ['tasks', 'checkpoint'] });
    const helloAt = r.helloAt;
    await vi.advanceTimersByTimeAsync(2500);
    last().emit('message', { type: 'hello', protocol: 1, pid: 1, sdk: { name: 'second', version: '2' }, capabilities: [] });
    expect(errors).toEqual([['duplicate_hello', 'a second hello 2.5s after the first, ignored: the session keeps its first hello\'s capabilities (tasks, checkpoint); an agent says hello once per process']]);
    expect(r.capabilities).toEqual(['tasks', 'checkpoint']);
    expect(r.sdk).toBe('first@1');
    expect(r.helloAt).toBe(helloAt);
    expect(r.isIdle).toBe(true);
    expect(last().sent.filter((m) => m.type === 'welcome')).toHaveLength(1);
    expect(messages).toEqual(['hello']);
  });

  it('starts a new session with each process: the new process\'s hello is its first', async () => {
    const { r, last } = setup(new FixedDelayRestartPolicy(0));
    const errors: string[] = [];
    r.on('protocolError', (reason) => errors.push(reason));
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    last().emit('message', { type: 'hello', protocol: 1, pid: 1, capabilities: ['tasks'] });
    last().exit({ code: 1, signal: null });
    await vi.advanceTimersByTimeAsync(0);
    expect(r.capabilities).toEqual([]);
    last().emit('message', { type: 'hello', protocol: 1, pid: 2, capabilities: ['checkpoint'] });
    expect(errors).toEqual([]);
    expect(r.capabilities).toEqual(['checkpoint']);
    expect(last().sent.filter((m) => m.type === 'welcome')).toHaveLength(1);
  });
});
