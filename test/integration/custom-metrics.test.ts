import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, type Parsed } from '../../src/telemetry/metrics/parseExposition.js';
import { ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * Custom agent metrics end to end: a real supervisor (from dist/) runs two
 * replicas of a Node agent that records a counter, a histogram and an up-down
 * counter through @opentelemetry/api (test/fixtures/agents/customMetricsAgent.mjs),
 * and a per_task agent whose processes write `metrics` lines on fd 3 themselves.
 * Everything appears on the one /metrics with agent, role and replica labels,
 * checked by promtool (Prometheus text) and by a real Prometheus 2.42 scrape
 * (OpenMetrics). A missing binary is a failure, never a skip.
 */

const OM = 'application/openmetrics-text; version=1.0.0';
const AGENT = path.join(ROOT, 'test/fixtures/agents/customMetricsAgent.mjs');
const RAW = path.join(ROOT, 'test/fixtures/agents/rawMetricsTask.mjs');

function run(cmd: string, args: string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`${cmd} could not run (${r.error.message}): install it (Debian: apt-get install prometheus); these tests do not skip`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

async function scrape(sup: RunningSupervisor, format: 'prometheus' | 'openmetrics' = 'prometheus'): Promise<{ text: string; parsed: Parsed }> {
  const res = await fetch(`${sup.url}/metrics`, { headers: format === 'openmetrics' ? { accept: OM } : {} });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, parsed: parseExposition(text, format) };
}

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const a = s.address();
    s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
  });
});

const replica = (r: string) => ({ agent: 'metered', role: 'metered', replica: r });

describe('custom agent metrics on the supervisor\'s /metrics', () => {
  let sup: RunningSupervisor;
  let dir: string;
  let release: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'agentic-custom-'));
    release = path.join(dir, 'release');
    sup = await startSupervisor({
      monitoring: { sample_interval: 1 },
      agents: [
        { name: 'metered', command: ['node', AGENT], replicas: 2, heartbeat_interval: 1, stop_timeout: 2 },
        { name: 'reader', mode: 'per_task', command: ['node', RAW, '{task_id}'], max_concurrent: 2, env: { FIXTURE_RELEASE_FILE: release } },
      ],
    });
  });

  afterAll(() => {
    cleanup(sup);
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports each replica\'s counter, histogram and up-down counter with agent, role and replica labels, and the values grow', async () => {
    const first = await waitFor('both replicas\' metrics', async () => {
      const { parsed } = await scrape(sup);
      return ['0', '1'].every((r) => parsed.value('fixture_items_processed_total', { ...replica(r), kind: 'story' }) !== undefined) ? parsed : undefined;
    });
    expect(first.families.get('fixture_items_processed_total')).toEqual({ type: 'counter', help: 'Items the fixture processed.' });
    expect(first.families.get('fixture_step_duration_seconds')).toEqual({ type: 'histogram', help: 'Duration of one step of the fixture.' });
    expect(first.families.get('fixture_items_in_flight')?.type).toBe('gauge');
    for (const r of ['0', '1']) {
      const l = { ...replica(r), kind: 'story' };
      expect(first.value('fixture_items_in_flight', l)).toBe(0);
      const count = first.value('fixture_step_duration_seconds_count', l) as number;
      expect(count).toBeGreaterThan(0);
      const buckets = ['0.01', '0.1', '1', '+Inf'].map((le) => first.value('fixture_step_duration_seconds_bucket', { ...l, le }) as number);
      expect(buckets.every((b, i) => i === 0 || b >= (buckets[i - 1] as number))).toBe(true);
      expect(buckets[3]).toBe(count);
      expect(first.value('fixture_step_duration_seconds_sum', l)).toBeGreaterThanOrEqual(0);
    }
    expect(first.labelNames('fixture_items_processed_total')).toEqual(['agent', 'kind', 'replica', 'role']);

    const before = first.value('fixture_items_processed_total', { ...replica('0'), kind: 'story' }) as number;
    const later = await waitFor('the counter to grow', async () => {
      const { parsed } = await scrape(sup);
      return (parsed.value('fixture_items_processed_total', { ...replica('0'), kind: 'story' }) ?? 0) > before ? parsed : undefined;
    });
    expect(later.value('fixture_items_processed_total', { ...replica('0'), kind: 'bug' })).toBeGreaterThan(0);
    expect(later.value('fixture_step_duration_seconds_count', { ...replica('0'), kind: 'story' })).toBeGreaterThan(first.value('fixture_step_duration_seconds_count', { ...replica('0'), kind: 'story' }) as number);
  });

  it('serves them in OpenMetrics too, the counter family named without _total', async () => {
    const { parsed } = await scrape(sup, 'openmetrics');
    expect(parsed.families.get('fixture_items_processed')?.type).toBe('counter');
    expect(parsed.value('fixture_items_processed_total', { ...replica('1'), kind: 'story' })).toBeGreaterThan(0);
    expect(parsed.families.get('fixture_step_duration_seconds')?.type).toBe('histogram');
    expect(parsed.value('fixture_step_duration_seconds_bucket', { ...replica('1'), kind: 'story', le: '+Inf' })).toBeGreaterThan(0);
  });

  it('refuses the agent\'s metric named with the reserved agentic_ prefix, as a protocol error', async () => {
    const { parsed } = await waitFor('the refusal to be counted', async () => {
      const s = await scrape(sup);
      return (s.parsed.value('agentic_protocol_errors_total', { agent: 'metered', reason: 'metrics_reserved_name' }) ?? 0) > 0 ? s : undefined;
    });
    expect(parsed.series('agentic_fixture_impostor_total')).toEqual([]);
    expect(parsed.families.has('agentic_fixture_impostor_total')).toBe(false);
    expect(sup.output()).toContain('agentic_fixture_impostor: the agentic_ prefix is reserved');
  });

  it('passes promtool check metrics on the Prometheus text format', async () => {
    const { text, parsed } = await scrape(sup);
    expect(parsed.value('fixture_items_processed_total', { ...replica('0'), kind: 'story' })).toBeGreaterThan(0);
    const r = run('promtool', ['check', 'metrics'], text);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('exports the lines a per_task process writes on fd 3 under its index, renames a `job` attribute, counts a malformed line, and drops the series when the process ends', async () => {
    const submitted = await sup.api<{ task: { id: string } }>('POST', '/api/v1/tasks', { role: 'reader', title: 'read the wiki' });
    expect(submitted.status).toBe(201);
    const labels = { agent: 'reader', role: 'reader', replica: '0', source: 'wiki', exported_job: 'nightly' };
    const seen = await waitFor('the per_task process\'s counter', async () => (await scrape(sup)).parsed.value('raw_pages_read_total', labels));
    expect(seen).toBeGreaterThan(0);
    writeFileSync(release, '');
    await waitFor('the per_task run to complete', async () =>
      (await sup.api<{ task: { status: string } }>('GET', `/api/v1/tasks/${submitted.body.task.id}`)).body.task.status === 'completed');
    const after = (await scrape(sup)).parsed;
    expect(after.series('raw_pages_read_total')).toEqual([]);
    // its malformed first line was counted, and changed nothing else
    expect(after.value('agentic_protocol_errors_total', { agent: 'reader', reason: 'invalid' })).toBe(1);
    expect(after.families.has('raw_latency_seconds')).toBe(false);
    expect(after.value('agentic_tasks_total', { role: 'reader', outcome: 'completed' })).toBe(1);
  });

  it('starts a restarted replica\'s counters again (the old process\'s snapshot is dropped)', async () => {
    const l = { ...replica('0'), kind: 'story' };
    // ~10 a second: a restarted process needs seconds to get back above this
    const before = await waitFor('a larger counter', async () => {
      const v = (await scrape(sup)).parsed.value('fixture_items_processed_total', l) ?? 0;
      return v > 50 ? v : undefined;
    });
    const agents = (await sup.api<{ agents: { replica: string; pid: number | null }[] }>('GET', '/api/v1/agents')).body.agents;
    const pid = agents.find((a) => a.replica === 'metered-0')?.pid;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid as number, 'SIGKILL');
    const reset = await waitFor('the restarted replica\'s first snapshot', async () => {
      const p = (await scrape(sup)).parsed;
      const v = p.value('fixture_items_processed_total', l);
      return p.value('agentic_agent_restarts_total', { ...replica('0'), reason: 'crash' }) === 1 && v !== undefined && v < before ? v : undefined;
    }, 30_000);
    expect(reset).toBeGreaterThan(0);
  });

  describe('scraped by a real Prometheus 2.42 (OpenMetrics)', () => {
    let prom: ChildProcess | undefined;
    let promUrl: string;
    let log = '';

    beforeAll(async () => {
      const target = new URL(sup.url).host;
      writeFileSync(path.join(dir, 'prometheus.yml'), `global: { scrape_interval: 1s, scrape_timeout: 1s }\nscrape_configs:\n  - job_name: agentic-supervisor\n    static_configs: [{ targets: ['${target}'] }]\n`);
      const port = await freePort();
      promUrl = `http://127.0.0.1:${port}`;
      run('prometheus', ['--version']);
      prom = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      prom.stderr?.on('data', (d) => (log += d));
      await waitFor('Prometheus to be ready', async () => (await fetch(`${promUrl}/-/ready`)).ok, 30_000);
    });

    afterAll(() => {
      prom?.kill('SIGKILL');
    });

    const query = async (q: string) => ((await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;

    it('parses the scrape without error and stores the agents\' series with their labels', async () => {
      const target = await waitFor('a successful scrape', async () => {
        const t = ((await (await fetch(`${promUrl}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; lastError: string }[] } }).data.activeTargets[0];
        return t && t.health !== 'unknown' ? t : undefined;
      }, 30_000);
      expect(target, log).toMatchObject({ health: 'up', lastError: '' });
      const counters = await waitFor('the counters in Prometheus', async () => {
        const r = await query('fixture_items_processed_total{kind="story"}');
        return r.length === 2 ? r : undefined;
      }, 30_000);
      expect(counters.map((r) => [r.metric.agent, r.metric.role, r.metric.replica, r.metric.job, r.metric.instance]).sort()).toEqual([
        ['metered', 'metered', '0', 'agentic-supervisor', new URL(sup.url).host],
        ['metered', 'metered', '1', 'agentic-supervisor', new URL(sup.url).host],
      ]);
      const quantile = await query('histogram_quantile(0.5, sum by (le) (fixture_step_duration_seconds_bucket))');
      expect(quantile).toHaveLength(1);
      expect(Number(quantile[0]?.value[1])).toBeGreaterThan(0);
    });
  });
});
