import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, type Parsed } from '../../src/telemetry/metrics/parseExposition.js';
import { ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * A real supervisor (from dist/) with plain `sleep` replicas and a per_task agent
 * that replays a claude stream-json run; its /metrics checked by Debian's promtool
 * and scraped by a real Prometheus 2.42. A missing binary is a failure, never a skip.
 */

const OM = 'application/openmetrics-text; version=1.0.0';
const REPLAY = path.join(ROOT, 'test/fixtures/claude-stream-json/success.ndjson');

function run(cmd: string, args: string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`${cmd} could not run (${r.error.message}): install it (Debian: apt-get install prometheus); these tests do not skip`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

async function scrape(sup: RunningSupervisor, accept?: string): Promise<{ text: string; type: string | null }> {
  const res = await fetch(`${sup.url}/metrics`, { headers: accept ? { accept } : {} });
  expect(res.status).toBe(200);
  return { text: await res.text(), type: res.headers.get('content-type') };
}

const parsed = async (sup: RunningSupervisor, format: 'prometheus' | 'openmetrics' = 'prometheus'): Promise<Parsed> =>
  parseExposition((await scrape(sup, format === 'openmetrics' ? OM : undefined)).text, format);

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const a = s.address();
    s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
  });
});

describe('/metrics of a real supervisor', () => {
  let sup: RunningSupervisor;
  let traceId: string;

  beforeAll(async () => {
    sup = await startSupervisor({
      monitoring: { sample_interval: 1 },
      agents: [
        { name: 'sleeper', command: ['sleep', '600'], replicas: 2, stop_timeout: 1 },
        { name: 'deva_ts', mode: 'per_task', command: ['node', '-e', 'process.stdout.write(require("fs").readFileSync(process.argv[1]))', REPLAY], stdout_adapter: 'claude-stream-json', max_concurrent: 2 },
      ],
    });
    const submitted = await sup.api<{ task: { id: string; correlation_id: string } }>('POST', '/api/v1/tasks', { role: 'deva_ts', title: 'add coupon validation', priority: 9 });
    expect(submitted.status).toBe(201);
    traceId = submitted.body.task.correlation_id;
    await waitFor('the per_task run to complete', async () =>
      (await sup.api<{ task: { status: string } }>('GET', `/api/v1/tasks/${submitted.body.task.id}`)).body.task.status === 'completed');
    expect((await sup.api('POST', '/api/v1/tasks', { role: 'no_such_role', title: 'x' })).status).toBe(400);
  });

  afterAll(() => cleanup(sup));

  it('serves the Prometheus text format by default, and promtool check metrics reports nothing', async () => {
    const { text, type } = await scrape(sup);
    expect(type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const r = run('promtool', ['check', 'metrics'], text);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
    parseExposition(text, 'prometheus');
  });

  it('serves OpenMetrics with trace_id exemplars on request, which promtool 2.42 cannot read (it parses only the Prometheus text format)', async () => {
    const { text, type } = await scrape(sup, OM);
    expect(type).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const om = parseExposition(text, 'openmetrics');
    expect(om.sample('agentic_tasks_total', { role: 'deva_ts', outcome: 'completed' })?.exemplar?.labels).toEqual({ trace_id: traceId });
    expect(om.series('agentic_task_duration_seconds_bucket').filter((s) => s.exemplar?.labels.trace_id === traceId)).toHaveLength(1);
    const r = run('promtool', ['check', 'metrics'], text);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/text format parsing error in line \d+: expected integer as timestamp, got "#"/);
  });

  it('exports the finished task, its LLM usage, the refused submission and every replica with agent, role and replica labels', async () => {
    const p = await parsed(sup);
    expect(p.value('agentic_tasks_total', { role: 'deva_ts', outcome: 'completed' })).toBe(1);
    expect(p.value('agentic_task_duration_seconds_count', { role: 'deva_ts', outcome: 'completed' })).toBe(1);
    expect(p.value('agentic_tasks_submitted_total', { role: 'deva_ts' })).toBe(1);
    expect(p.value('agentic_tasks_rejected_total', { role: '', reason: 'unknown_role' })).toBe(1);
    expect(p.value('agentic_queue_depth', { role: 'deva_ts', priority_band: 'high' })).toBe(0);
    expect(p.value('agentic_tasks_in_progress', { role: 'sleeper' })).toBe(0);
    expect(p.value('agentic_llm_cost_usd_total', { agent: 'deva_ts', role: 'deva_ts' })).toBeCloseTo(0.0874512, 9);
    expect(p.value('agentic_llm_turns_total', { agent: 'deva_ts', role: 'deva_ts' })).toBe(4);
    expect(p.value('agentic_llm_tokens_total', { agent: 'deva_ts', role: 'deva_ts', type: 'cache_read' })).toBe(55_675);
    expect(p.value('agentic_agents_configured', { role: 'sleeper' })).toBe(1);
    expect(p.value('agentic_replicas_configured', { role: 'sleeper' })).toBe(2);
    expect(p.value('agentic_agents_configured', { role: 'deva_ts' })).toBe(1);
    expect(p.value('agentic_slots_configured', { role: 'deva_ts' })).toBe(2);
    expect(p.value('agentic_replicas_configured', { role: 'deva_ts' })).toBe(0);
    for (const replica of ['0', '1']) {
      const l = { agent: 'sleeper', role: 'sleeper', replica };
      expect(p.value('agentic_agent_up', l)).toBe(1);
      expect(p.value('agentic_agent_state', { ...l, state: 'running' })).toBe(1);
      expect(p.value('agentic_agent_info', { ...l, mode: 'service', sdk: 'none' })).toBe(1);
      expect(p.value('agentic_agent_health_status', { ...l, check: 'agent_response' })).toBeDefined();
    }
    expect(p.value('agentic_agent_state', { agent: 'deva_ts', role: 'deva_ts', replica: '0', state: 'stopped' })).toBe(1);
    // counters that start at 0 exist for agents created by start(), which runs after the metrics are wired
    expect(p.value('agentic_agent_task_errors_total', { agent: 'sleeper', role: 'sleeper' })).toBe(0);
    expect(p.value('agentic_escalations_total', { agent: 'sleeper', role: 'sleeper', reason: 'circuit_open' })).toBe(0);
    expect(p.value('agentic_disk_total_bytes', { path: path.join(sup.stateDir, 'logs') })).toBeGreaterThan(0);
    expect(p.families.get('process_resident_memory_bytes')?.type).toBe('gauge');
    const values = p.samples.flatMap((s) => Object.values(s.labels));
    expect(values.filter((v) => v.includes(traceId) || /^task_[0-9a-f]{12}$/.test(v))).toEqual([]);
  });

  it('counts a SIGKILLed replica\'s restart as a crash and shows its new process', async () => {
    const l = { agent: 'sleeper', role: 'sleeper', replica: '0' };
    await waitFor('a CPU/RSS sample of sleeper-0', async () => (await parsed(sup)).value('agentic_agent_resident_memory_bytes', l) !== undefined);
    const before = await parsed(sup);
    const agents = (await sup.api<{ agents: { replica: string; pid: number | null }[] }>('GET', '/api/v1/agents')).body.agents;
    const pid = agents.find((a) => a.replica === 'sleeper-0')?.pid;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid as number, 'SIGKILL');
    const after = await waitFor('sleeper-0 to be restarted', async () => {
      const p = await parsed(sup);
      return p.value('agentic_agent_restarts_total', { ...l, reason: 'crash' }) === 1 && p.value('agentic_agent_up', l) === 1 ? p : undefined;
    });
    expect(after.value('agentic_agent_start_time_seconds', l)).toBeGreaterThan(before.value('agentic_agent_start_time_seconds', l) ?? Infinity);
    expect(after.value('agentic_agent_restarts_total', { ...l, replica: '1', reason: 'crash' })).toBe(0);
    expect(after.value('agentic_agent_restarts_total', { ...l, reason: 'manual' })).toBe(0);
    const r = run('promtool', ['check', 'metrics'], (await scrape(sup)).text);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  describe('scraped by a real Prometheus 2.42', () => {
    let prom: ChildProcess | undefined;
    let promUrl: string;
    let dir: string;
    let log = '';

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'agentic-prom-'));
      const target = new URL(sup.url).host;
      writeFileSync(path.join(dir, 'prometheus.yml'), `global: { scrape_interval: 1s, scrape_timeout: 1s }\nscrape_configs:\n  - job_name: agentic-supervisor\n    static_configs: [{ targets: ['${target}'] }]\n`);
      const port = await freePort();
      promUrl = `http://127.0.0.1:${port}`;
      run('prometheus', ['--version']);
      prom = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--enable-feature=exemplar-storage'], { stdio: ['ignore', 'pipe', 'pipe'] });
      prom.stderr?.on('data', (d) => (log += d));
      await waitFor('Prometheus to be ready', async () => (await fetch(`${promUrl}/-/ready`)).ok, 30_000);
    });

    afterAll(() => {
      prom?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    const query = async (q: string) => ((await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;

    it('negotiates OpenMetrics, parses it without error and stores the trace_id exemplars', async () => {
      const target = await waitFor('a successful scrape', async () => {
        const t = ((await (await fetch(`${promUrl}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; lastError: string }[] } }).data.activeTargets[0];
        return t && t.health !== 'unknown' ? t : undefined;
      }, 30_000);
      expect(target, log).toMatchObject({ health: 'up', lastError: '' });
      expect((await parsed(sup)).value('agentic_metrics_render_seconds_count', { format: 'openmetrics' })).toBeGreaterThan(0);
      const done = await query('agentic_tasks_total{outcome="completed"} > 0');
      expect(done.map((r) => [r.metric.role, r.value[1]])).toEqual([['deva_ts', '1']]);
      const end = Date.now() / 1000;
      const res = (await (await fetch(`${promUrl}/api/v1/query_exemplars?query=${encodeURIComponent('agentic_task_duration_seconds_bucket')}&start=${end - 600}&end=${end + 60}`)).json()) as { data: { seriesLabels: Record<string, string>; exemplars: { labels: Record<string, string> }[] }[] };
      expect(res.data.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id))).toEqual([traceId]);
    });
  });
});
