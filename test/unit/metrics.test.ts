import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { wireMetrics } from '../../src/cli/wire/metrics.js';
import type { ExtensionContext } from '../../src/cli/extensions.js';
import { agentSchema, type AgentConfig } from '../../src/config/schema.js';
import type { Task } from '../../src/queue/Task.js';
import type { CircuitBreakerState } from '../../src/recovery/CircuitBreaker.js';
import type { ProcessHandle } from '../../src/supervisor/AgentProcess.js';
import type { TaskRun } from '../../src/supervisor/PerTaskAgent.js';
import type { ReplicaState } from '../../src/supervisor/ReplicaState.js';
import { StateDir } from '../../src/supervisor/StateDir.js';
import type { SupervisorEvents } from '../../src/supervisor/Supervisor.js';
import { Counter, Gauge, Histogram, Registry, type LabelValues, type Metric, type OpenMetricsContentType } from 'prom-client';
import { negotiateFormat, renderAs } from '../../src/telemetry/metrics/exposition.js';
import { ScrapeTimeFamily } from '../../src/telemetry/metrics/ScrapeTimeFamily.js';
import { HostCpu } from '../../src/telemetry/metrics/hostMetrics.js';
import { MetricsRegistry } from '../../src/telemetry/metrics/MetricsRegistry.js';
import { countRejectedSubmissions, registerMetricsRoute } from '../../src/telemetry/metrics/metricsRoute.js';
import { metricsOf } from '../../src/telemetry/metrics/metricsOf.js';
import type { ReplicaView, SupervisorView } from '../../src/telemetry/metrics/source.js';
import { parseExposition, type Parsed } from '../../src/telemetry/metrics/parseExposition.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const NOW = Date.now();
const agent = (o: Record<string, unknown>): AgentConfig => agentSchema.parse(o);
const proc = (pid: number) => ({ pid, startedAt: NOW - 60_000 }) as unknown as ProcessHandle;
const task = (id: string, role = 'qaa') => ({ id, role, correlation_id: TRACE }) as Task;

/** A supervisor-shaped object: qaa × 2 (running with a task, in backoff) and a per_task `deva_ts` (role dev, 2 slots). */
function fakeSupervisor() {
  const qaa = agent({ name: 'qaa', command: ['qaa'], replicas: 2 });
  const deva = agent({ name: 'deva_ts', role: 'dev', mode: 'per_task', command: ['claude'], max_concurrent: 2, stdout_adapter: 'claude-stream-json' });
  const replica = (index: number, state: ReplicaState, extra: Partial<ReplicaView>): { -readonly [K in keyof ReplicaView]: ReplicaView[K] } => ({
    slot: `qaa-${index}`, index, config: qaa, role: 'qaa', state, restarts: {}, sdk: undefined, lastHeartbeatAt: undefined,
    heapUsedBytes: undefined, lastPongRttMs: undefined, task: undefined, ...extra,
  });
  const r0 = replica(0, { kind: 'running', since: NOW, proc: proc(101) }, {
    restarts: { crash: 2, manual: 1 }, sdk: 'agentic-node@0.1.0', lastHeartbeatAt: NOW - 2000, heapUsedBytes: 12_345,
    task: { id: 'task_busy', correlationId: TRACE, assignedAt: NOW, lastProgressAt: NOW, progress: null, message: null },
  });
  const r1 = replica(1, { kind: 'backoff', since: NOW, restartAt: NOW + 5000, lastExit: { at: NOW, code: 1, signal: null, reason: 'crash' } }, {});
  const runs = new Map<string, TaskRun>();
  const samples = new Map([[101, { at: NOW, cpuPercent: 150, rssBytes: 200_000_000, processes: 2 }], [201, { at: NOW, cpuPercent: 25, rssBytes: 50_000_000, processes: 1 }]]);
  let stats: () => ReturnType<NonNullable<SupervisorView['queue']>['stats']> = () => ({
    depth: new Map([['qaa', new Map([['high', 2], ['low', 1]] as const)]]), oldestPending: new Map([['qaa', NOW - 30_000]]), inProgress: new Map([['qaa', 1]]), totalPending: 3,
  });
  const sup = Object.assign(new EventEmitter<SupervisorEvents>(), {
    replicas: [r0, r1], perTask: [{ config: deva, role: 'dev', runs, stopping: false }], roles: ['qaa', 'dev'],
    sampler: { get: (pid: number | undefined) => (pid === undefined ? undefined : samples.get(pid)), lastRoundDurationMs: 4 },
    queue: { stats: () => stats() },
    policy: { circuitState: (id: string): CircuitBreakerState => (id === 'qaa-1' ? { kind: 'open', openedAt: NOW, until: NOW + 60_000, cooldownMs: 60_000, trigger: 'threshold' } : { kind: 'closed', failures: [] }) },
  });
  // A run holds the lowest free slot index from its start (as PerTaskAgent gives it).
  const startRun = (taskId: string, pid: number) => {
    const used = new Set([...runs.values()].map((r) => r.slot));
    let i = 0;
    while (used.has(String(i))) i++;
    return runs.set(taskId, { task: task(taskId, 'dev'), slot: String(i), slotId: `deva_ts-${i}`, state: { kind: 'streaming', since: NOW }, proc: proc(pid), startedAt: NOW - 1000 } as unknown as TaskRun);
  };
  return { sup: sup satisfies SupervisorView, r0, r1, runs, startRun, setStats: (f: typeof stats) => { stats = f; } };
}

let open: MetricsRegistry[] = [];
function registry(sup?: SupervisorView, opts: { onError?: (e: Error) => void } = {}): MetricsRegistry {
  const m = new MetricsRegistry({ sup, diskPaths: [tmpdir()], onError: opts.onError });
  open.push(m);
  return m;
}
afterEach(() => {
  for (const m of open) m.close();
  open = [];
});

const scrape = async (m: MetricsRegistry, format: 'prometheus' | 'openmetrics' = 'prometheus'): Promise<Parsed> => parseExposition(await m.render(format), format);

describe('metrics registry', () => {
  it('exports each replica\'s lifecycle, resources and restarts with exactly agent, role and replica labels', async () => {
    const { sup } = fakeSupervisor();
    const p = await scrape(registry(sup));
    const q0 = { agent: 'qaa', role: 'qaa', replica: '0' };
    const q1 = { agent: 'qaa', role: 'qaa', replica: '1' };
    expect(p.value('agentic_agent_up', q0)).toBe(1);
    expect(p.value('agentic_agent_up', q1)).toBe(0);
    expect(p.series('agentic_agent_state').filter((s) => s.labels.replica === '1' && s.labels.agent === 'qaa').map((s) => [s.labels.state, s.value])).toEqual([
      ['starting', 0], ['running', 0], ['stopping', 0], ['backoff', 1], ['circuit_open', 0], ['failed', 0], ['stopped', 0],
    ]);
    expect(p.value('agentic_agent_busy', q0)).toBe(1);
    expect(p.value('agentic_agent_info', { ...q0, mode: 'service', sdk: 'agentic-node@0.1.0' })).toBe(1);
    expect(p.value('agentic_agent_info', { ...q1, mode: 'service', sdk: 'none' })).toBe(1);
    expect(p.value('agentic_agent_start_time_seconds', q0)).toBeCloseTo((NOW - 60_000) / 1000, 3);
    expect(p.value('agentic_agent_cpu_usage_ratio', q0)).toBe(1.5);
    expect(p.value('agentic_agent_resident_memory_bytes', q0)).toBe(200_000_000);
    expect(p.value('agentic_agent_heap_used_bytes', q0)).toBe(12_345);
    expect(p.value('agentic_agent_last_heartbeat_timestamp_seconds', q0)).toBeCloseTo((NOW - 2000) / 1000, 3);
    // a replica without a process has no process figures at all, rather than zeros
    for (const name of ['agentic_agent_start_time_seconds', 'agentic_agent_cpu_usage_ratio', 'agentic_agent_resident_memory_bytes']) expect(p.value(name, q1)).toBeUndefined();
    expect(p.series('agentic_agent_restarts_total').filter((s) => s.labels.replica === '0' && s.labels.agent === 'qaa').map((s) => [s.labels.reason, s.value])).toEqual([
      ['crash', 2], ['unhealthy', 0], ['manual', 1], ['alert', 0],
    ]);
    expect(p.labelNames('agentic_agent_up')).toEqual(['agent', 'replica', 'role']);
    expect(p.labelNames('agentic_agent_state')).toEqual(['agent', 'replica', 'role', 'state']);
    expect(p.labelNames('agentic_agent_health_status')).toEqual(['agent', 'check', 'replica', 'role']);
  });

  it('exports a per_task agent as max_concurrent replicas: a running process holds the lowest free index, an idle slot is stopped', async () => {
    const { sup, runs, startRun } = fakeSupervisor();
    const m = registry(sup);
    const dev = (replica: string) => ({ agent: 'deva_ts', role: 'dev', replica });
    let p = await scrape(m);
    expect(p.value('agentic_agent_state', { ...dev('0'), state: 'stopped' })).toBe(1);
    expect(p.value('agentic_agent_up', dev('1'))).toBe(0);
    expect(p.value('agentic_agents_configured', { role: 'dev' })).toBe(1);
    expect(p.value('agentic_slots_configured', { role: 'dev' })).toBe(2);
    expect(p.value('agentic_slots_busy', { role: 'dev' })).toBe(0);
    expect(p.value('agentic_slots_stopped', { role: 'dev' })).toBe(0);
    expect(p.value('agentic_slots_stopped', { role: 'qaa' })).toBe(0); // every role has the series, per_task agents or not
    expect(p.value('agentic_agents_up', { role: 'dev' })).toBe(1); // idle and able to start runs: up
    startRun('task_a', 201);
    startRun('task_b', 202);
    await scrape(m); // task_a holds 0, task_b 1
    runs.delete('task_a');
    startRun('task_c', 203); // takes index 0, freed by task_a; task_b keeps 1
    expect(m.setHealth('deva_ts-1', 'task_progress', 'unhealthy')).toBe(true);
    p = await scrape(m);
    expect(p.value('agentic_agent_up', dev('0'))).toBe(1);
    expect(p.value('agentic_agent_busy', dev('1'))).toBe(1);
    expect(p.value('agentic_agent_info', { ...dev('0'), mode: 'per_task', sdk: 'none' })).toBe(1);
    expect(p.value('agentic_agents_up', { role: 'dev' })).toBe(1);
    expect(p.value('agentic_slots_busy', { role: 'dev' })).toBe(2);
    expect(p.value('agentic_agent_health_status', { ...dev('1'), check: 'task_progress' })).toBe(2);
    expect(p.value('agentic_agent_health_status', { ...dev('0'), check: 'task_progress' })).toBe(0);
    runs.delete('task_b'); // the process ended: its verdict goes with it
    p = await scrape(m);
    expect(p.value('agentic_agent_health_status', { ...dev('1'), check: 'task_progress' })).toBe(0);
    expect(p.value('agentic_agent_state', { ...dev('1'), state: 'stopped' })).toBe(1);
    expect(m.setHealth('deva_ts-1', 'task_progress', 2)).toBe(false);
    Object.assign(sup.perTask[0] as object, { stopped: true }); // background stop deva_ts: its slots are stopped on purpose
    p = await scrape(m);
    expect(p.value('agentic_slots_stopped', { role: 'dev' })).toBe(2);
    expect(p.value('agentic_slots_configured', { role: 'dev' })).toBe(2);
  });

  it('counts finished tasks by role and outcome, with trace_id exemplars in OpenMetrics only', async () => {
    const { sup } = fakeSupervisor();
    const m = registry(sup);
    sup.emit('taskFinished', { task: task('task_1'), agent: 'qaa', role: 'qaa', outcome: 'completed', durationMs: 42_000, traceId: TRACE });
    sup.emit('taskFinished', { task: task('task_2'), agent: 'qaa', role: 'qaa', outcome: 'failed', durationMs: 700, traceId: '' });
    const om = await scrape(m, 'openmetrics');
    const done = om.sample('agentic_tasks_total', { role: 'qaa', outcome: 'completed' });
    expect(done?.value).toBe(1);
    expect(done?.exemplar?.labels).toEqual({ trace_id: TRACE });
    expect(om.sample('agentic_tasks_total', { role: 'qaa', outcome: 'failed' })?.exemplar).toBeUndefined();
    expect(om.value('agentic_tasks_total', { role: 'dev', outcome: 'dead_lettered' })).toBe(0);
    expect(om.families.get('agentic_tasks')?.type).toBe('counter');
    const bucket = om.sample('agentic_task_duration_seconds_bucket', { role: 'qaa', outcome: 'completed', le: '60' });
    expect(bucket?.value).toBe(1);
    expect(bucket?.exemplar).toMatchObject({ labels: { trace_id: TRACE }, value: 42 });
    expect(om.value('agentic_task_duration_seconds_bucket', { role: 'qaa', outcome: 'completed', le: '30' })).toBe(0);
    expect(om.value('agentic_task_duration_seconds_sum', { role: 'qaa', outcome: 'completed' })).toBe(42);
    const prom = await scrape(m, 'prometheus');
    expect(prom.value('agentic_tasks_total', { role: 'qaa', outcome: 'completed' })).toBe(1);
    expect(prom.samples.filter((s) => s.exemplar)).toEqual([]);
  });

  it('counts task errors per agent, protocol errors, escalations, LLM usage and submissions from the supervisor\'s events', async () => {
    const { sup } = fakeSupervisor();
    const m = registry(sup);
    sup.emit('taskFinished', { task: task('t1', 'dev'), agent: 'deva_ts', role: 'dev', outcome: 'dead_lettered', durationMs: 1, traceId: TRACE });
    sup.emit('taskFinished', { task: task('t2', 'dev'), agent: 'deva_ts', role: 'dev', outcome: 'completed', durationMs: 1, traceId: TRACE });
    sup.emit('protocolError', { agent: 'qaa', reason: 'not_json', detail: 'x' });
    sup.emit('escalation', { agent: 'qaa', role: 'qaa', slot: 'qaa-1', reason: 'circuit_open', detail: 'x', at: NOW });
    sup.emit('llmUsage', { agent: 'deva_ts', role: 'dev', llm: { num_turns: 3, total_cost_usd: 0.25, usage: { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 5 } } });
    sup.emit('taskSubmitted', task('t3'));
    m.taskRejected('qaa', 'queue_full');
    m.taskRejected('no-such-role-x', 'unknown_role');
    const p = await scrape(m);
    expect(p.value('agentic_agent_task_errors_total', { agent: 'deva_ts', role: 'dev' })).toBe(1);
    expect(p.value('agentic_agent_task_errors_total', { agent: 'qaa', role: 'qaa' })).toBe(0);
    expect(p.value('agentic_protocol_errors_total', { agent: 'qaa', reason: 'not_json' })).toBe(1);
    expect(p.value('agentic_escalations_total', { agent: 'qaa', role: 'qaa', reason: 'circuit_open' })).toBe(1);
    expect(p.value('agentic_escalations_total', { agent: 'qaa', role: 'qaa', reason: 'restarts_exhausted' })).toBe(0);
    expect(p.value('agentic_llm_cost_usd_total', { agent: 'deva_ts', role: 'dev' })).toBe(0.25);
    expect(p.value('agentic_llm_turns_total', { agent: 'deva_ts', role: 'dev' })).toBe(3);
    expect(p.series('agentic_llm_tokens_total').map((s) => [s.labels.type, s.value])).toEqual([['input', 10], ['output', 20], ['cache_creation', 0], ['cache_read', 5]]);
    expect(p.value('agentic_tasks_submitted_total', { role: 'qaa' })).toBe(1);
    expect(p.value('agentic_tasks_rejected_total', { role: 'qaa', reason: 'queue_full' })).toBe(1);
    expect(p.value('agentic_tasks_rejected_total', { role: '', reason: 'unknown_role' })).toBe(1);
  });

  it('starts per-agent counters at 0 for agents the supervisor creates after the metrics are wired', async () => {
    const { sup } = fakeSupervisor();
    const replicas = sup.replicas.splice(0); // wiring happens before Supervisor.start() creates them
    const perTask = sup.perTask.splice(0);
    const m = registry(sup);
    let p = await scrape(m);
    expect(p.series('agentic_agent_task_errors_total')).toEqual([]);
    expect(p.value('agentic_tasks_total', { role: 'dev', outcome: 'completed' })).toBe(0); // roles come from the config
    sup.replicas.push(...replicas);
    sup.perTask.push(...perTask);
    p = await scrape(m);
    expect(p.value('agentic_agent_task_errors_total', { agent: 'qaa', role: 'qaa' })).toBe(0);
    expect(p.value('agentic_agent_task_errors_total', { agent: 'deva_ts', role: 'dev' })).toBe(0);
    expect(p.value('agentic_escalations_total', { agent: 'qaa', role: 'qaa', reason: 'restarts_exhausted' })).toBe(0);
    expect(p.value('agentic_llm_tokens_total', { agent: 'deva_ts', role: 'dev', type: 'cache_creation' })).toBe(0);
    expect(p.value('agentic_agent_up', { agent: 'qaa', role: 'qaa', replica: '0' })).toBe(1);
  });

  it('observes each ping round trip once, and not a late pong whose ping had timed out', async () => {
    const { sup, r0 } = fakeSupervisor();
    const m = registry(sup);
    const pong = () => sup.emit('message', { agent: 'qaa', slot: 'qaa-0', message: { type: 'pong', id: 1 } });
    r0.lastPongRttMs = 3;
    pong();
    pong(); // late: the replica did not record a new round trip
    r0.lastPongRttMs = 700;
    pong();
    const p = await scrape(m);
    const q0 = { agent: 'qaa', role: 'qaa', replica: '0' };
    expect(p.value('agentic_agent_response_seconds_count', q0)).toBe(2);
    expect(p.value('agentic_agent_response_seconds_sum', q0)).toBeCloseTo(0.703, 6);
    expect(p.value('agentic_agent_response_seconds_bucket', { ...q0, le: '0.005' })).toBe(1);
  });

  it('reads the queue at scrape time, and leaves its series out (reporting why) when it cannot be read', async () => {
    const { sup, setStats } = fakeSupervisor();
    const errors: Error[] = [];
    const m = registry(sup, { onError: (e) => errors.push(e) });
    let p = await scrape(m);
    expect(p.series('agentic_queue_depth').filter((s) => s.labels.role === 'qaa').map((s) => [s.labels.priority_band, s.value])).toEqual([['high', 2], ['normal', 0], ['low', 1]]);
    expect(p.value('agentic_queue_depth', { role: 'dev', priority_band: 'normal' })).toBe(0);
    expect(p.value('agentic_tasks_in_progress', { role: 'qaa' })).toBe(1);
    expect(p.value('agentic_task_oldest_pending_age_seconds', { role: 'qaa' })).toBeGreaterThanOrEqual(30);
    expect(p.value('agentic_task_oldest_pending_age_seconds', { role: 'dev' })).toBe(0);
    setStats(() => { throw new Error('The database connection is not open'); });
    p = await scrape(m);
    expect(p.series('agentic_queue_depth')).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(['The database connection is not open']);
    expect(p.value('agentic_agent_up', { agent: 'qaa', role: 'qaa', replica: '0' })).toBe(1);
  });

  it('takes health verdicts, memory growth, breaker and system health from other layers, with 0 as every default', async () => {
    const { sup } = fakeSupervisor();
    const m = registry(sup);
    const q0 = { agent: 'qaa', role: 'qaa', replica: '0' };
    let p = await scrape(m);
    expect(p.series('agentic_agent_health_status').filter((s) => s.labels.replica === '0' && s.labels.agent === 'qaa').map((s) => [s.labels.check, s.value])).toEqual([
      ['agent_response', 0], ['resource_usage', 0], ['task_progress', 0], ['memory_leaks', 0], ['connectivity', 0],
    ]);
    expect(p.value('agentic_agent_memory_growth_bytes_per_second', q0)).toBe(0);
    expect(p.value('agentic_system_health', {})).toBe(0);
    expect(m.setHealth('qaa-0', 'agent_response', 'degraded')).toBe(true);
    expect(m.setHealth('qaa-0', 'memory_leaks', 2)).toBe(true);
    expect(m.setMemoryGrowth('qaa-0', -512.5)).toBe(true);
    expect(m.setCircuitState('qaa-0', 1)).toBe(true); // the policy reports qaa-0 closed, and wins
    expect(m.setHealth('nope-0', 'agent_response', 2)).toBe(false);
    m.setSystemHealth('unhealthy');
    p = await scrape(m);
    expect(p.value('agentic_agent_health_status', { ...q0, check: 'agent_response' })).toBe(1);
    expect(p.value('agentic_agent_health_status', { ...q0, check: 'memory_leaks' })).toBe(2);
    expect(p.value('agentic_agent_memory_growth_bytes_per_second', q0)).toBe(-512.5);
    expect(p.value('agentic_agent_circuit_state', q0)).toBe(0);
    expect(p.value('agentic_agent_circuit_state', { ...q0, replica: '1' })).toBe(2);
    expect(p.value('agentic_system_health', {})).toBe(2);
  });

  it('uses the recorded breaker state when the restart policy cannot report one', async () => {
    const { sup } = fakeSupervisor();
    const m = registry({ ...sup, on: sup.on.bind(sup), off: sup.off.bind(sup), policy: {} });
    expect(m.setCircuitState('qaa-1', 1)).toBe(true);
    const p = await scrape(m);
    expect(p.value('agentic_agent_circuit_state', { agent: 'qaa', role: 'qaa', replica: '1' })).toBe(1);
    expect(p.value('agentic_agent_circuit_state', { agent: 'qaa', role: 'qaa', replica: '0' })).toBe(0);
  });

  it('refuses unknown checks and out-of-range values with a message naming what it got', () => {
    const m = registry(fakeSupervisor().sup);
    expect(() => m.setHealth('qaa-0', 'disk' as never, 0)).toThrow(/Expected a health check \(agent_response, .*\), got `disk`/);
    expect(() => m.setHealth('qaa-0', 'agent_response', 3 as never)).toThrow(/got `3` \(number\)/);
    expect(() => m.setCircuitState('qaa-0', 5 as never)).toThrow(/got `5`/);
    expect(() => m.setMemoryGrowth('qaa-0', Number.NaN)).toThrow(/finite/);
    expect(() => m.controller.webhookRequest(42)).toThrow(/HTTP status code/);
    expect(() => m.controllerAction('restart', 'maybe' as never)).toThrow(/got `maybe`/);
  });

  it('counts controller decisions, webhook requests and decision time without a supervisor', async () => {
    const m = registry();
    m.controllerAction('restart', 'duplicate');
    m.controller.webhookRequest(202);
    m.controller.decisionSeconds(0.003);
    const p = await scrape(m);
    expect(p.value('agentic_controller_actions_total', { action: 'restart', result: 'duplicate' })).toBe(1);
    expect(p.value('agentic_controller_actions_total', { action: 'restart', result: 'acted' })).toBe(0);
    expect(p.value('agentic_controller_webhook_requests_total', { code: '202' })).toBe(1);
    expect(p.value('agentic_controller_decision_seconds_count', {})).toBe(1);
    expect(p.series('agentic_agent_up')).toEqual([]);
  });

  it('reports host CPU, memory and the disk of each configured path, and the supervisor\'s own process metrics', async () => {
    const p = await scrape(registry(fakeSupervisor().sup));
    const cpu = p.value('agentic_system_cpu_usage_ratio', {}) ?? -1;
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(1);
    expect(p.value('agentic_system_memory_used_bytes', {})).toBeLessThan(p.value('agentic_system_memory_total_bytes', {}) ?? 0);
    expect(p.value('agentic_disk_used_bytes', { path: tmpdir() })).toBeLessThanOrEqual(p.value('agentic_disk_total_bytes', { path: tmpdir() }) ?? 0);
    expect(p.value('agentic_resource_sample_duration_seconds', {})).toBe(0.004);
    expect(p.families.get('process_cpu_seconds_total')?.type).toBe('counter');
    expect(p.families.has('nodejs_heap_size_used_bytes')).toBe(true);
    expect(p.families.has('nodejs_active_handles_total')).toBe(false);
  });

  it('computes host CPU from the busy share between readings at least a second apart', () => {
    const readings = [{ idle: 900, total: 1000 }, { idle: 1000, total: 1400 }];
    let i = 0;
    const cpu = new HostCpu(1000, (at) => ({ ...(readings[Math.min(i++, 1)] as { idle: number; total: number }), at }));
    expect(cpu.ratio(0)).toBeCloseTo(0.1);
    expect(cpu.ratio(500)).toBeCloseTo(0.1); // too soon: the last figure
    expect(cpu.ratio(1500)).toBeCloseTo(0.75); // (400 - 100) / 400
  });

  it('never puts task ids or trace ids in label values', async () => {
    const { sup, startRun } = fakeSupervisor();
    const m = registry(sup);
    startRun('task_secret_run', 201);
    m.setHealth('deva_ts:task_secret_run', 'resource_usage', 1);
    sup.emit('taskFinished', { task: task('task_busy'), agent: 'qaa', role: 'qaa', outcome: 'completed', durationMs: 5, traceId: TRACE });
    for (const format of ['prometheus', 'openmetrics'] as const) {
      const values = (await scrape(m, format)).samples.flatMap((s) => Object.values(s.labels));
      expect(values.filter((v) => /task_(secret_run|busy)/.test(v) || v.includes(TRACE))).toEqual([]);
      expect(values).toContain('task_progress'); // the check name is the only task_ text
    }
  });

  it('renders both formats any number of times, in any order, with counters keeping their _total names', async () => {
    const m = registry(fakeSupervisor().sup);
    const [om1, prom1] = await Promise.all([m.render('openmetrics'), m.render('prometheus')]);
    const prom2 = await m.render('prometheus');
    const om2 = await m.registry.metrics();
    for (const text of [prom1, prom2]) expect(text).toMatch(/^# TYPE agentic_tasks_total counter$/m);
    for (const text of [om1, om2]) {
      expect(text).toMatch(/^# TYPE agentic_tasks counter$/m);
      expect(text.endsWith('# EOF\n')).toBe(true);
    }
    const p = parseExposition(prom2, 'prometheus');
    const o = parseExposition(om2, 'openmetrics');
    expect(o.samples.map((s) => s.name).filter((n) => n.startsWith('agentic_')).sort()).toEqual(p.samples.map((s) => s.name).filter((n) => n.startsWith('agentic_')).sort());
  });

  it('renders its scrape-time families byte for byte as prom-client\'s Registry would', async () => {
    const { sup, r0, startRun } = fakeSupervisor();
    const m = registry(sup);
    startRun('task_a', 201);
    r0.sdk = 'odd "sdk" \\ with\nnewline';
    const families = (m.registry.getMetricsAsArray() as unknown[]).filter((f): f is ScrapeTimeFamily => f instanceof ScrapeTimeFamily);
    expect(families.length).toBeGreaterThan(20);
    // Ages are computed from Date.now() at each render: freeze it so two renders agree.
    vi.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    try {
      for (const f of families) {
        const plain = new Registry();
        plain.registerMetric(f as unknown as Metric);
        expect(f.render('prometheus')).toBe(await plain.getSingleMetricAsString(f.name));
      }
    } finally {
      vi.useRealTimers();
    }
    for (const format of ['prometheus', 'openmetrics'] as const) {
      const info = (await scrape(m, format)).series('agentic_agent_info').find((s) => s.labels.replica === '0' && s.labels.agent === 'qaa');
      expect(info?.labels.sdk).toBe('odd "sdk" \\ with\nnewline');
    }
  });

  it('yields to the event loop between families without changing the text', async () => {
    const m = registry(fakeSupervisor().sup, {});
    m.controller.webhookRequest(200); // counters with stored labels go through the stand-ins
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(Date.now()), 0);
    const [yielding, whole] = [await renderAs(m.registry, 'openmetrics', { maxBlockMs: 0 }), await renderAs(m.registry, 'openmetrics', { maxBlockMs: 1e9 })];
    clearInterval(timer);
    const volatile = /^(nodejs_|process_|agentic_(system_cpu|system_memory|disk|metrics_render|task_oldest_pending))/;
    const strip = (t: string) => t.split('\n').filter((l) => l !== '' && !volatile.test(l)).join('\n');
    expect(strip(yielding)).toBe(strip(whole));
    expect(ticks.length).toBeGreaterThan(0);
  });

  it('renders a big family a chunk of samples at a time, byte for byte as prom-client\'s Registry would', async () => {
    const source = new Registry<OpenMetricsContentType>();
    source.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const h = new Histogram({ name: 'bench_seconds', help: 'odd "help" \\ with\nnewline', labelNames: ['agent'], buckets: [0.1, 1, 10], registers: [source], enableExemplars: true });
    const c = new Counter({ name: 'bench_things_total', help: 'things', labelNames: ['agent', 'kind'], registers: [source], enableExemplars: true });
    const g = new Gauge({ name: 'bench_level', help: 'level', labelNames: ['agent'], registers: [source] });
    const empty = new Gauge({ name: 'bench_empty', help: 'no series', labelNames: ['agent'], registers: [source] });
    const exemplarLabels: LabelValues<string> = { trace_id: TRACE };
    for (let i = 0; i < 40; i++) {
      h.observe({ labels: { agent: `a_${i}` }, value: i / 7, exemplarLabels });
      c.inc({ labels: { agent: `a_${i}`, kind: 'x' }, value: i + 1, exemplarLabels });
      g.set({ agent: `a "${i}"` }, i);
    }
    for (const format of ['prometheus', 'openmetrics'] as const) {
      const whole = await renderAs(source, format, { maxBlockMs: 1e9, chunk: 1e9 });
      for (const chunk of [1, 3, 7, 160, 161]) expect(await renderAs(source, format, { maxBlockMs: 0, chunk })).toBe(whole);
    }
    const plain = new Registry(); // as prom-client renders them itself (in the Prometheus format, where renaming counters is no issue)
    for (const m of [h, c, g, empty]) plain.registerMetric(m);
    expect(await renderAs(source, 'prometheus', { maxBlockMs: 0, chunk: 3 })).toBe(await plain.metrics());
    // and in OpenMetrics, exemplars included (last: prom-client renames the counters in place)
    const ours = await renderAs(source, 'openmetrics', { maxBlockMs: 0, chunk: 3 });
    expect(ours).toMatch(/^bench_seconds_bucket\{le="1",agent="a_1"\} 1 # \{trace_id="[0-9a-f]{32}"\} 0\.14\d+ \d+/m);
    const plainOm = new Registry<OpenMetricsContentType>();
    plainOm.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    for (const m of [h, c, g, empty]) plainOm.registerMetric(m);
    expect(ours).toBe(await plainOm.metrics());
    let turns = 0;
    let counting = true;
    const count = () => { turns++; if (counting) setImmediate(count); };
    setImmediate(count);
    await renderAs(source, 'prometheus', { maxBlockMs: 0, chunk: 10 });
    counting = false;
    expect(turns).toBeGreaterThan(20); // 160 bucket samples, 40 counters, 40 gauges: 24 chunks, a yield after each
  });

  it('refuses invalid metric and label names, naming them', () => {
    expect(() => new ScrapeTimeFamily('agentic-bad', 'h', 'gauge', [], () => undefined)).toThrow(/Invalid metric name `agentic-bad`/);
    expect(() => new ScrapeTimeFamily('agentic_things', 'h', 'counter', [], () => undefined)).toThrow(/`agentic_things`: counters end with _total/);
    expect(() => new ScrapeTimeFamily('agentic_x', 'h', 'gauge', ['agent', '__name'], () => undefined)).toThrow(/Invalid label name `__name` on `agentic_x`/);
  });

  it('promtool check metrics accepts the Prometheus text format with nothing to report', async () => {
    const { sup, startRun } = fakeSupervisor();
    const m = registry(sup);
    startRun('task_a', 201);
    sup.emit('taskFinished', { task: task('t'), agent: 'qaa', role: 'qaa', outcome: 'completed', durationMs: 5, traceId: TRACE });
    const run = spawnSync('promtool', ['check', 'metrics'], { input: await m.render('prometheus'), encoding: 'utf8' });
    if (run.error) throw new Error(`promtool could not run (${run.error.message}): install it (Debian: apt-get install prometheus); this test does not skip`);
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  });
});

describe('GET /metrics', () => {
  it.each([
    [undefined, 'prometheus'],
    ['*/*', 'prometheus'],
    ['text/plain', 'prometheus'],
    ['application/openmetrics-text', 'openmetrics'],
    ['application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'openmetrics'],
    ['text/plain;version=0.0.4;q=0.9, application/openmetrics-text;q=0.5', 'prometheus'],
    ['application/openmetrics-text; version=2.0.0, text/plain;q=0.1', 'prometheus'],
    ['application/openmetrics-text;q=0', 'prometheus'],
    ['application/json', 'prometheus'],
  ])('Accept %s → %s', (accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });

  it('answers in the negotiated format with its content type, Vary: Accept, and counts its renders', async () => {
    const app = Fastify();
    const m = registry(fakeSupervisor().sup);
    registerMetricsRoute(app, m);
    const plain = await app.inject({ method: 'GET', url: '/metrics' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(plain.headers.vary).toBe('Accept');
    parseExposition(plain.body, 'prometheus');
    const om = await app.inject({ method: 'GET', url: '/metrics', headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(om.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const parsed = parseExposition(om.body, 'openmetrics');
    expect(parsed.value('agentic_metrics_render_seconds_count', { format: 'prometheus' })).toBe(1);
    await app.close();
  });

  it('counts refused submissions from the control API\'s queue_full and unknown_role answers only', async () => {
    const app = Fastify();
    const m = registry(fakeSupervisor().sup);
    app.post<{ Body: { role: string } }>('/api/v1/tasks', async (req, reply) => {
      if (req.body.role === 'qaa') return reply.code(429).send({ error: 'queue_full', reason: 'full' });
      if (req.body.role === 'bad') return reply.code(400).send({ error: 'bad_request', reason: 'priority' });
      return reply.code(400).send({ error: 'unknown_role', reason: 'no such role' });
    });
    countRejectedSubmissions(app, m);
    for (const role of ['qaa', 'bad', 'zzz-unbounded-text']) await app.inject({ method: 'POST', url: '/api/v1/tasks', payload: { role } });
    const p = await scrape(m);
    expect(p.series('agentic_tasks_rejected_total').filter((s) => s.value > 0).map((s) => [s.labels.role, s.labels.reason, s.value])).toEqual([
      ['qaa', 'queue_full', 1], ['', 'unknown_role', 1],
    ]);
    await app.close();
  });

  it('wireMetrics serves the registry it attaches to the supervisor, and detaches it on close', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'metrics-wire-'));
    const dir = new StateDir(root);
    dir.ensure();
    const { sup } = fakeSupervisor();
    const app = Fastify();
    const ctx = { sup, app, dir, log: pino({ level: 'silent' }) } as unknown as ExtensionContext;
    const close = await wireMetrics(ctx);
    const m = metricsOf(sup);
    expect(m).toBeInstanceOf(MetricsRegistry);
    m?.setHealth('qaa-1', 'connectivity', 'unhealthy');
    const p = parseExposition((await app.inject({ method: 'GET', url: '/metrics' })).body, 'prometheus');
    expect(p.value('agentic_agent_health_status', { agent: 'qaa', role: 'qaa', replica: '1', check: 'connectivity' })).toBe(2);
    expect(p.value('agentic_disk_total_bytes', { path: dir.logDir })).toBeGreaterThan(0);
    await close?.();
    expect(metricsOf(sup)).toBeUndefined();
    sup.emit('taskSubmitted', task('after-close')); // no listener left behind
    expect(sup.listenerCount('taskSubmitted')).toBe(0);
    await app.close();
    rmSync(root, { recursive: true, force: true });
  });
});
