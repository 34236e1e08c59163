import type { HealthChecksConfig } from '../config/schema.js';
import { cfgSecs, dur, mb, pct, round1 } from './format.js';
import { SustainedWindow } from './SustainedWindow.js';
import { labelOf, type Target } from './Target.js';
import { resultOf, skipped, type CheckContext, type CheckResult, type Finding, type HealthCheck } from './types.js';

const MiB = 1024 * 1024;

interface Windows {
  incarnation: string | undefined;
  lastSampleAt: number;
  cpu: SustainedWindow;
  mem: SustainedWindow;
}

/**
 * resource_usage: CPU and RSS of the agent's whole process tree (sampled by the
 * supervisor with one batched pidusage call per round) against `max_cpu_percent`
 * and `max_memory_mb`. A limit counts only when every sample over
 * `sustained_window` exceeds it; a spike is not a failure. Windows reset when the
 * process restarts.
 */
export class ResourceUsageCheck implements HealthCheck {
  readonly name = 'resource_usage' as const;
  private readonly windows = new Map<string, Windows>();

  /** @param sampleIntervalMs the supervisor's sampling interval: a gap of 3 samples breaks a window. */
  constructor(private readonly cfg: HealthChecksConfig['resource_usage'], readonly intervalMs: number, private readonly sampleIntervalMs: number) {}

  observe(targets: readonly Target[], ctx: CheckContext): void {
    for (const t of targets) {
      const s = ctx.sample(t.pid);
      if (!s) continue;
      const w = this.windowsOf(t);
      if (s.at <= w.lastSampleAt) continue;
      w.lastSampleAt = s.at;
      w.cpu.update(s.at, s.cpuPercent > this.cfg.max_cpu_percent, s.cpuPercent);
      w.mem.update(s.at, s.rssBytes > this.cfg.max_memory_mb * MiB, s.rssBytes);
    }
  }

  evaluate(t: Target, ctx: CheckContext): CheckResult {
    if (t.pid === undefined) return skipped('no process');
    this.observe([t], ctx);
    const s = ctx.sample(t.pid);
    if (!s) return skipped('not sampled yet');
    const w = this.windowsOf(t);
    const summary = `CPU ${pct(s.cpuPercent)}, RSS ${mb(s.rssBytes)}${s.processes > 1 ? ` (${s.processes} processes)` : ''}`;
    const findings: Finding[] = [];
    const who = labelOf(t);
    const window = cfgSecs(this.cfg.sustained_window);
    const cpu = w.cpu.state();
    if (cpu.sustained) {
      findings.push({
        check: 'resource_usage', kind: 'cpu', severity: 'unhealthy', value: round1(cpu.value as number), threshold: this.cfg.max_cpu_percent, unit: '%', since: cpu.since as number, restart: false,
        message: `${who}: CPU ${pct(cpu.value)} of one core (peak ${pct(cpu.peak)}) for ${dur(ctx.now - (cpu.since as number))}, over max_cpu_percent ${this.cfg.max_cpu_percent}% for longer than sustained_window ${window}${s.processes > 1 ? ` — summed over its ${s.processes} processes` : ''}`,
      });
    }
    const mem = w.mem.state();
    if (mem.sustained) {
      findings.push({
        check: 'resource_usage', kind: 'memory', severity: 'unhealthy', value: round1((mem.value as number) / MiB), threshold: this.cfg.max_memory_mb, unit: 'MB', since: mem.since as number, restart: false,
        message: `${who}: resident memory ${mb(mem.value as number)} (peak ${mb(mem.peak as number)}) for ${dur(ctx.now - (mem.since as number))}, over max_memory_mb ${this.cfg.max_memory_mb} for longer than sustained_window ${window}${s.processes > 1 ? ` — summed over its ${s.processes} processes` : ''}`,
      });
    }
    return resultOf(summary, findings, { cpu_percent: s.cpuPercent, rss_bytes: s.rssBytes });
  }

  forget(id: string): void {
    this.windows.delete(id);
  }

  private windowsOf(t: Target): Windows {
    let w = this.windows.get(t.id);
    if (!w || w.incarnation !== t.incarnation) {
      const windowMs = this.cfg.sustained_window * 1000;
      const gapMs = 3 * this.sampleIntervalMs;
      w = { incarnation: t.incarnation, lastSampleAt: -Infinity, cpu: new SustainedWindow(windowMs, gapMs), mem: new SustainedWindow(windowMs, gapMs) };
      this.windows.set(t.id, w);
    }
    return w;
  }
}
