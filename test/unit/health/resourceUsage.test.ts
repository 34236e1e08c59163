import { describe, expect, it } from 'vitest';
import { ResourceUsageCheck } from '../../../src/health/resourceUsage.js';
import { bgConfig, context, target } from '../../helpers/health.js';

const T0 = 1_700_000_000_000;
const MiB = 1024 * 1024;
const cfg = bgConfig({ monitoring: { health_checks: { resource_usage: { max_cpu_percent: 80, max_memory_mb: 100, sustained_window: 60 } } } }).monitoring.health_checks.resource_usage;

/** Feeds one sample every 5 s from T0 with the given CPU (and RSS in MB) and evaluates at the last. */
function run(cpus: number[], rssMb: number[] = cpus.map(() => 50)) {
  const check = new ResourceUsageCheck(cfg, 30_000, 5000);
  const t = target(T0);
  let last;
  cpus.forEach((cpu, i) => {
    const at = T0 + i * 5000;
    last = check.evaluate(t, context(at, { 4242: { cpu, rss: (rssMb[i] as number) * MiB, at } }));
  });
  return last!;
}

describe('resource_usage', () => {
  it('reports CPU and RSS of the process tree without a finding when under the limits', () => {
    expect(run([10, 20])).toMatchObject({ status: 'healthy', summary: 'CPU 20.0%, RSS 50.0 MB', measurements: { cpu_percent: 20 } });
  });

  it('does not count a spike, or a run shorter than sustained_window', () => {
    expect(run([99, 99, 99, 10, 99]).status).toBe('healthy');
    expect(run(Array(12).fill(95)).status).toBe('healthy'); // 55 s over the limit
  });

  it('is unhealthy once CPU stayed over max_cpu_percent for the whole sustained_window', () => {
    const r = run(Array(13).fill(95).map((x, i) => x + (i === 3 ? 4 : 0)));
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ kind: 'cpu', severity: 'unhealthy', value: 95, threshold: 80, unit: '%', since: T0, restart: false });
    expect(r.findings[0]!.message).toBe('qaa: CPU 95.0% of one core (peak 99.0%) for 1m00s, over max_cpu_percent 80% for longer than sustained_window 60s');
  });

  it('is unhealthy once RSS stayed over max_memory_mb for the sustained_window', () => {
    const r = run(Array(13).fill(1), Array(13).fill(150));
    expect(r.findings[0]).toMatchObject({ kind: 'memory', value: 150, threshold: 100, unit: 'MB' });
  });

  it('starts the window again when the process restarts', () => {
    const check = new ResourceUsageCheck(cfg, 30_000, 5000);
    for (let i = 0; i < 12; i++) check.evaluate(target(T0), context(T0 + i * 5000, { 4242: { cpu: 99, at: T0 + i * 5000 } }));
    const after = check.evaluate(target(T0, { incarnation: 'restarted' }), context(T0 + 60_000, { 4242: { cpu: 99, at: T0 + 60_000 } }));
    expect(after.status).toBe('healthy');
  });
});
