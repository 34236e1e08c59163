import { EventEmitter } from 'node:events';
import { Gauge } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { agentSchema } from '../../src/config/schema.js';
import { decodeAgentLine } from '../../src/protocol/codec.js';
import type { MetricV1, ResourceMetricsV1 } from '../../src/protocol/metricsPayload.js';
import type { Task } from '../../src/queue/Task.js';
import type { ProcessHandle } from '../../src/supervisor/AgentProcess.js';
import type { TaskRun } from '../../src/supervisor/PerTaskAgent.js';
import type { SupervisorEvents } from '../../src/supervisor/Supervisor.js';
import { promLabel, promName, type CustomMetricsLimits, type CustomMetricsProblem } from '../../src/telemetry/metrics/customMetrics.js';
import { MetricsRegistry } from '../../src/telemetry/metrics/MetricsRegistry.js';
import { parseExposition, type Parsed } from '../../src/telemetry/metrics/parseExposition.js';
import type { ReplicaView, SupervisorView } from '../../src/telemetry/metrics/source.js';

const NOW = Date.now();
const proc = (pid: number) => ({ pid, startedAt: NOW - 60_000 }) as unknown as ProcessHandle;

/** A supervisor-shaped object: `qaa` × 2 and `saa` × 1 running, and a per_task `reader` (2 slots). */
function fakeSupervisor() {
  const qaa = agentSchema.parse({ name: 'qaa', command: ['qaa'], replicas: 2 });
  const saa = agentSchema.parse({ name: 'saa', role: 'story', command: ['saa'] });
  const reader = agentSchema.parse({ name: 'reader', mode: 'per_task', command: ['r'], max_concurrent: 2 });
  const replica = (config: typeof qaa, index: number, pid: number): ReplicaView => ({
    slot: `${config.name}-${index}`, index, config, role: config.role ?? config.name, state: { kind: 'running', since: NOW, proc: proc(pid) },
    restarts: {}, sdk: 'agentic-scrum-background@0.1.0', lastHeartbeatAt: undefined, heapUsedBytes: undefined, lastPongRttMs: undefined, task: undefined,
  });
  const runs = new Map<string, TaskRun>();
  const sup = Object.assign(new EventEmitter<SupervisorEvents>(), {
    replicas: [replica(qaa, 0, 101), replica(qaa, 1, 102), replica(saa, 0, 103)],
    perTask: [{ config: reader, role: 'reader', runs, stopping: false }],
    roles: ['qaa', 'story', 'reader'],
    sampler: { get: () => undefined, lastRoundDurationMs: 0 },
    queue: undefined,
    policy: {},
  });
  const startRun = (taskId: string) => {
    const used = new Set([...runs.values()].map((r) => r.slot));
    let i = 0;
    while (used.has(String(i))) i++;
    return runs.set(taskId, { task: { id: taskId, role: 'reader' } as Task, slot: String(i), slotId: `reader-${i}`, state: { kind: 'streaming', since: NOW }, proc: proc(300 + runs.size), startedAt: NOW } as unknown as TaskRun);
  };
  return { sup: sup satisfies SupervisorView, runs, startRun };
}

let open: MetricsRegistry[] = [];
afterEach(() => {
  for (const m of open) m.close();
  open = [];
});

function setup(limits?: CustomMetricsLimits) {
  const { sup, runs, startRun } = fakeSupervisor();
  const problems: CustomMetricsProblem[] = [];
  const m = new MetricsRegistry({ sup, defaultMetrics: false, customMetricsLimits: limits, onCustomMetricsProblem: (p) => problems.push(p) });
  open.push(m);
  /** One protocol line from `slot`, through the decoder as the supervisor reads it: a message, or a counted protocol error. */
  const send = (slot: string, payload: unknown): void => {
    const agent = slot.includes(':') ? slot.slice(0, slot.indexOf(':')) : slot.replace(/-\d+$/, '');
    const d = decodeAgentLine(JSON.stringify({ type: 'metrics', resource_metrics: payload }));
    if (d.ok) sup.emit('message', { agent, slot, message: d.message });
    else sup.emit('protocolError', { agent, reason: d.reason, detail: d.detail });
  };
  const scrape = async (format: 'prometheus' | 'openmetrics' = 'prometheus'): Promise<Parsed> => parseExposition(await m.render(format), format);
  return { sup, m, runs, startRun, send, scrape, problems };
}

const payload = (...metrics: MetricV1[]): ResourceMetricsV1 => ({ version: 1, scope_metrics: [{ scope: { name: 'test' }, metrics }] });
const counter = (name: string, points: { attributes?: Record<string, string>; value: number }[], description?: string): MetricV1 => ({ name, description, kind: 'counter', points });
const gauge = (name: string, points: { attributes?: Record<string, string>; value: number }[]): MetricV1 => ({ name, kind: 'gauge', points });
const histogram = (name: string, attributes?: Record<string, string>): MetricV1 => ({
  name, description: 'Step duration.', unit: 's', kind: 'histogram',
  points: [{ attributes, count: 6, sum: 12.5, buckets: { boundaries: [0.5, 1, 5], counts: [1, 2, 0, 3] } }],
});
const q = (replica: string) => ({ agent: 'qaa', role: 'qaa', replica });

describe('custom agent metrics: validation of the payload (the protocol schema)', () => {
  const bad: [string, unknown, RegExp][] = [
    ['no payload', undefined, /resource_metrics/],
    ['another version', { version: 2, scope_metrics: [] }, /resource_metrics\.version/],
    ['an unknown kind', payload({ name: 'x', kind: 'summary', points: [] } as unknown as MetricV1), /kind/],
    ['a negative counter', payload(counter('x', [{ value: -1 }])), /points\.0\.value/],
    ['a value that is not a number', payload(gauge('x', [{ value: '3' as unknown as number }])), /points\.0\.value/],
    ['an attribute value that is not a string', payload(gauge('x', [{ attributes: { a: 1 as unknown as string }, value: 1 }])), /attributes\.a/],
    ['33 attributes', payload(gauge('x', [{ attributes: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`a${i}`, 'v'])), value: 1 }])), /at most 32 attributes/],
    ['an empty name', payload(gauge('', [{ value: 1 }])), /name/],
    ['bucket counts of the wrong length', payload({ ...histogram('h'), points: [{ count: 1, sum: 1, buckets: { boundaries: [1, 2], counts: [1] } }] } as MetricV1), /one more count than boundaries/],
    ['decreasing boundaries', payload({ ...histogram('h'), points: [{ count: 2, sum: 1, buckets: { boundaries: [2, 1], counts: [1, 1, 0] } }] } as MetricV1), /increasing boundaries/],
    ['a count that is not the sum of the buckets', payload({ ...histogram('h'), points: [{ count: 5, sum: 1, buckets: { boundaries: [1], counts: [1, 1] } }] } as MetricV1), /sum of the bucket counts/],
    ['65 boundaries', payload({ ...histogram('h'), points: [{ count: 0, sum: 0, buckets: { boundaries: Array.from({ length: 65 }, (_, i) => i), counts: Array.from({ length: 66 }, () => 0) } }] } as MetricV1), /boundaries/],
  ];
  it.each(bad)('refuses %s as an invalid line', (_what, resourceMetrics, detail) => {
    const d = decodeAgentLine(JSON.stringify({ type: 'metrics', resource_metrics: resourceMetrics }));
    expect(d).toMatchObject({ ok: false, reason: 'invalid' });
    expect(d.ok ? '' : d.detail).toMatch(detail);
  });

  it('counts a malformed payload in agentic_protocol_errors_total{reason="invalid"} and keeps the last good snapshot', async () => {
    const { send, scrape } = setup();
    send('qaa-0', payload(counter('jobs', [{ value: 4 }])));
    send('qaa-0', { version: 1, scope_metrics: [{ metrics: [{ name: 'jobs', kind: 'counter', points: [{ value: 'many' }] }] }] });
    const p = await scrape();
    expect(p.value('agentic_protocol_errors_total', { agent: 'qaa', reason: 'invalid' })).toBe(1);
    expect(p.value('jobs_total', q('0'))).toBe(4);
  });
});

describe('custom agent metrics: exposition', () => {
  it('renders each process\'s counter, gauge and histogram with agent, role and replica labels, in both formats', async () => {
    const { send, scrape } = setup();
    send('qaa-0', payload(counter('items.processed', [{ attributes: { kind: 'story' }, value: 7 }, { attributes: { kind: 'bug' }, value: 2 }], 'Items processed.'), gauge('queue.items', [{ value: -2 }]), histogram('step.duration_seconds', { kind: 'story' })));
    send('qaa-1', payload(counter('items.processed', [{ attributes: { kind: 'story' }, value: 1 }], 'Another description, not used.')));
    send('saa-0', payload(gauge('queue.items', [{ value: 9 }])));
    const p = await scrape();
    expect(p.families.get('items_processed_total')).toEqual({ type: 'counter', help: 'Items processed.' });
    expect(p.value('items_processed_total', { ...q('0'), kind: 'story' })).toBe(7);
    expect(p.value('items_processed_total', { ...q('0'), kind: 'bug' })).toBe(2);
    expect(p.value('items_processed_total', { ...q('1'), kind: 'story' })).toBe(1);
    expect(p.families.get('queue_items')).toEqual({ type: 'gauge', help: 'Agent metric queue.items (no description).' });
    expect(p.value('queue_items', q('0'))).toBe(-2);
    expect(p.value('queue_items', { agent: 'saa', role: 'story', replica: '0' })).toBe(9);
    const h = { ...q('0'), kind: 'story' };
    expect(p.families.get('step_duration_seconds')).toEqual({ type: 'histogram', help: 'Step duration.' });
    expect(['0.5', '1', '5', '+Inf'].map((le) => p.value('step_duration_seconds_bucket', { ...h, le }))).toEqual([1, 3, 3, 6]);
    expect(p.value('step_duration_seconds_sum', h)).toBe(12.5);
    expect(p.value('step_duration_seconds_count', h)).toBe(6);

    const om = await scrape('openmetrics');
    expect(om.families.get('items_processed')?.type).toBe('counter');
    expect(om.value('items_processed_total', { ...q('0'), kind: 'story' })).toBe(7);
    expect(om.value('step_duration_seconds_bucket', { ...h, le: '+Inf' })).toBe(6);
    expect(om.value('queue_items', { agent: 'saa', role: 'story', replica: '0' })).toBe(9);
  });

  it('replaces a process\'s snapshot with its next one (values are cumulative; series it no longer sends go)', async () => {
    const { send, scrape } = setup();
    send('qaa-0', payload(counter('jobs', [{ attributes: { kind: 'a' }, value: 1 }, { attributes: { kind: 'b' }, value: 1 }])));
    send('qaa-0', payload(counter('jobs', [{ attributes: { kind: 'a' }, value: 5 }])));
    const p = await scrape();
    expect(p.series('jobs_total').map((s) => [s.labels.kind, s.value])).toEqual([['a', 5]]);
  });

  it('turns names and attribute keys into Prometheus names, renames agent/role/replica/instance/job/le, and leaves out empty values', async () => {
    expect(promName('http.server.request-count/total')).toBe('http_server_request_count_total');
    expect(promName('9lives')).toBe('_9lives');
    expect(promName('a..b')).toBe('a_b');
    expect(promLabel('service.name')).toBe('service_name');
    for (const k of ['agent', 'role', 'replica', 'instance', 'job', 'le']) expect(promLabel(k)).toBe(`exported_${k}`);
    const { send, scrape } = setup();
    send('qaa-0', payload(counter('llm.tokens_total', [{ attributes: { agent: 'other', job: 'nightly', 'model.name': 'opus', '1st': 'x', empty: '' }, value: 3 }], 'Tokens\r\nby model.')));
    const p = await scrape();
    expect(p.families.get('llm_tokens_total')).toEqual({ type: 'counter', help: 'Tokens by model.' });
    expect(p.series('llm_tokens_total').map((s) => s.labels)).toEqual([
      { _1st: 'x', exported_agent: 'other', exported_job: 'nightly', model_name: 'opus', agent: 'qaa', role: 'qaa', replica: '0' },
    ]);
  });

  it('keeps one series when two attribute sets become the same labels, and counts the other as a duplicate', async () => {
    const { send, scrape } = setup();
    send('qaa-0', payload(gauge('temp', [{ attributes: { 'a.b': '1' }, value: 1 }, { attributes: { a_b: '1' }, value: 2 }])));
    const p = await scrape();
    expect(p.series('temp').map((s) => s.value)).toEqual([1]);
    expect(p.value('agentic_custom_metrics_dropped_series_total', { agent: 'qaa', reason: 'duplicate' })).toBe(1);
  });

  it('exports a per_task process under its index, and forgets it when the process is gone', async () => {
    const { send, scrape, startRun, runs } = setup();
    startRun('task_1');
    startRun('task_2');
    send('reader-1', payload(counter('pages', [{ value: 3 }])));
    send('reader-0', payload(counter('pages', [{ value: 5 }])));
    send('reader-2', payload(counter('pages', [{ value: 100 }]))); // max_concurrent 2: no such slot, ignored
    let p = await scrape();
    expect(p.series('pages_total').map((s) => [s.labels, s.value]).sort((a, b) => String(a[1]).localeCompare(String(b[1])))).toEqual([[{ agent: 'reader', role: 'reader', replica: '1' }, 3], [{ agent: 'reader', role: 'reader', replica: '0' }, 5]]);
    runs.delete('task_1');
    runs.delete('task_2');
    p = await scrape();
    expect(p.series('pages_total')).toEqual([]);
  });

  it('drops a process\'s series when it exits, and the family when no process reports it', async () => {
    const { sup, send, scrape, m } = setup();
    send('qaa-0', payload(counter('jobs', [{ value: 3 }])));
    send('qaa-1', payload(counter('jobs', [{ value: 4 }])));
    sup.emit('agentExit', { agent: 'qaa', slot: 'qaa-0', reason: 'crash' });
    let p = await scrape();
    expect(p.series('jobs_total').map((s) => s.labels.replica)).toEqual(['1']);
    sup.emit('agentExit', { agent: 'qaa', slot: 'qaa-1', reason: 'crash' });
    p = await scrape();
    expect(p.families.has('jobs_total')).toBe(false);
    expect(m.custom?.seriesCount).toBe(0);
    // the restarted process starts again from its own values: a counter reset
    send('qaa-0', payload(counter('jobs', [{ value: 1 }])));
    expect((await scrape()).value('jobs_total', q('0'))).toBe(1);
  });
});

describe('custom agent metrics: refusals and limits', () => {
  it('refuses names with the agentic_ prefix and names of the supervisor\'s own metrics, as protocol errors, and keeps the rest', async () => {
    const { send, scrape, problems, m } = setup();
    new Gauge({ name: 'layer_queue_size', help: 'A metric another layer registered.', registers: [m.registry] }).set(1);
    const bad = payload(counter('agentic.tasks', [{ value: 1 }]), gauge('Agentic_Up', [{ value: 1 }]), counter('layer_queue_size', [{ value: 1 }]), gauge('ok', [{ value: 1 }]));
    send('qaa-0', bad);
    send('qaa-0', bad);
    const p = await scrape();
    expect(p.value('agentic_protocol_errors_total', { agent: 'qaa', reason: 'metrics_reserved_name' })).toBe(6);
    expect(p.series('layer_queue_size')).toEqual([{ name: 'layer_queue_size', labels: {}, value: 1 }]);
    expect(p.value('ok', q('0'))).toBe(1);
    expect(p.series('agentic_tasks_total').filter((s) => s.labels.agent)).toEqual([]);
    expect(p.families.has('Agentic_Up')).toBe(false);
    // told once per process, problem and metric
    expect(problems.map((x) => [x.slot, x.reason, x.metric])).toEqual([
      ['qaa-0', 'metrics_reserved_name', 'agentic.tasks'],
      ['qaa-0', 'metrics_reserved_name', 'Agentic_Up'],
      ['qaa-0', 'metrics_reserved_name', 'layer_queue_size'],
    ]);
  });

  it('refuses a name a process already exports with another type (also through _total, _count, _sum or _bucket), until that process is gone', async () => {
    const { sup, send, scrape } = setup();
    send('qaa-0', payload(counter('jobs', [{ value: 3 }]), histogram('latency')));
    send('saa-0', payload(gauge('jobs', [{ value: 1 }]), gauge('jobs_total', [{ value: 1 }]), gauge('latency_count', [{ value: 1 }]), histogram('latency')));
    let p = await scrape();
    expect(p.value('agentic_protocol_errors_total', { agent: 'saa', reason: 'metrics_type_conflict' })).toBe(3);
    expect(p.families.get('jobs_total')?.type).toBe('counter');
    expect(p.series('jobs_total').map((s) => s.labels.agent)).toEqual(['qaa']);
    expect(p.series('latency_count').map((s) => s.labels.agent)).toEqual(['qaa', 'saa']); // same type: shared
    sup.emit('agentExit', { agent: 'qaa', slot: 'qaa-0', reason: 'crash' });
    send('saa-0', payload(gauge('jobs', [{ value: 1 }])));
    p = await scrape('openmetrics');
    expect(p.families.get('jobs')?.type).toBe('gauge');
    expect(p.value('jobs', { agent: 'saa', role: 'story', replica: '0' })).toBe(1);
  });

  it('bounds series per process and in total, counting what it leaves out by reason', async () => {
    const { send, scrape, m } = setup({ seriesPerSlot: 3, seriesTotal: 5 });
    const points = (n: number) => Array.from({ length: n }, (_, i) => ({ attributes: { i: String(i) }, value: i }));
    send('qaa-0', payload(gauge('g', points(4))));
    send('qaa-1', { ...payload(gauge('g', points(3))), dropped_series: 7 });
    let p = await scrape();
    expect(p.series('g').filter((s) => s.labels.replica === '0')).toHaveLength(3);
    expect(p.series('g').filter((s) => s.labels.replica === '1')).toHaveLength(2);
    expect(p.value('agentic_custom_metrics_dropped_series_total', { agent: 'qaa', reason: 'slot_limit' })).toBe(1);
    expect(p.value('agentic_custom_metrics_dropped_series_total', { agent: 'qaa', reason: 'total_limit' })).toBe(1);
    expect(p.value('agentic_custom_metrics_dropped_series_total', { agent: 'qaa', reason: 'line_size' })).toBe(7);
    expect(m.custom?.seriesCount).toBe(5);
    // a process's new snapshot is measured without its old one
    send('qaa-0', payload(gauge('g', points(1))));
    send('qaa-1', payload(gauge('g', points(3))));
    p = await scrape();
    expect(p.series('g')).toHaveLength(4);
    expect(m.custom?.seriesCount).toBe(4);
  });

  it('counts a metrics message from an unknown slot nowhere and renders nothing for it', async () => {
    const { send, scrape } = setup();
    send('nobody-0', payload(gauge('ghost', [{ value: 1 }])));
    const p = await scrape();
    expect(p.families.has('ghost')).toBe(false);
  });
});
