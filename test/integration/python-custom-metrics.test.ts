import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/telemetry/metrics/parseExposition.js';
import { ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * The Python SDK's custom metrics (sdk/python, get_meter()) end on the same /metrics
 * as the Node SDK's, the same way: a real supervisor runs one agent of each
 * (test/fixtures/agents/pythonMetricsAgent.py and customMetricsAgent.mjs) and both
 * agents' counters, up-down counters and histograms are exported with agent, role
 * and replica labels.
 */
describe('Python SDK custom metrics on the supervisor\'s /metrics, next to the Node SDK\'s', () => {
  let sup: RunningSupervisor;

  beforeAll(async () => {
    sup = await startSupervisor({
      agents: [
        { name: 'pymetered', command: ['python3', path.join(ROOT, 'test/fixtures/agents/pythonMetricsAgent.py')], heartbeat_interval: 1, stop_timeout: 2 },
        { name: 'nodemetered', command: ['node', path.join(ROOT, 'test/fixtures/agents/customMetricsAgent.mjs')], heartbeat_interval: 1, stop_timeout: 2 },
      ],
    });
  });
  afterAll(() => cleanup(sup));

  it('exports the Python counter, up-down counter and histogram with labels, beside the Node agent\'s, and the counter grows', async () => {
    const py = { agent: 'pymetered', role: 'pymetered', replica: '0', kind: 'story' };
    const scrape = async () => parseExposition(await (await fetch(`${sup.url}/metrics`)).text(), 'prometheus');
    const first = await waitFor('both agents\' metrics', async () => {
      const p = await scrape();
      return p.value('pyfixture_items_processed_total', py) !== undefined
        && p.value('fixture_items_processed_total', { agent: 'nodemetered', role: 'nodemetered', replica: '0', kind: 'story' }) !== undefined ? p : undefined;
    }, 30_000);
    expect(first.families.get('pyfixture_items_processed_total')).toEqual({ type: 'counter', help: 'Items the Python fixture processed.' });
    expect(first.families.get('pyfixture_items_in_flight')?.type).toBe('gauge');
    expect(first.families.get('pyfixture_step_duration_seconds')?.type).toBe('histogram');
    expect(first.value('pyfixture_items_in_flight', py)).toBe(0);
    expect(first.value('pyfixture_step_duration_seconds_bucket', { ...py, le: '0.01' })).toBe(0);
    const n = first.value('pyfixture_items_processed_total', py) as number;
    expect(first.value('pyfixture_step_duration_seconds_bucket', { ...py, le: '0.1' })).toBeGreaterThan(0);
    const later = await waitFor('the counter to grow', async () => {
      const p = await scrape();
      return (p.value('pyfixture_items_processed_total', py) as number) > n ? p : undefined;
    }, 20_000);
    expect(later.value('pyfixture_step_duration_seconds_count', py)).toBeGreaterThan(0);
  }, 90_000);
});
