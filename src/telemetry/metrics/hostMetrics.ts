import { statfsSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { type AnyRegistry, stateGauge } from './define.js';

interface CpuTimes { idle: number; total: number; at: number }

function cpuTimes(now: number): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
  }
  return { idle, total, at: now };
}

/**
 * Host CPU busy ratio (1.0 = all cores) between two readings at least `minWindowMs`
 * apart; scrapes closer together than that get the last figure. The first reading
 * is the average since boot.
 */
export class HostCpu {
  private prev: CpuTimes | undefined;
  private last = 0;

  constructor(private readonly minWindowMs = 1000, private readonly read: (now: number) => CpuTimes = cpuTimes) {}

  ratio(now = Date.now()): number {
    if (this.prev && now - this.prev.at < this.minWindowMs) return this.last;
    const cur = this.read(now);
    const base = this.prev ?? { idle: 0, total: 0, at: 0 };
    const dTotal = cur.total - base.total;
    if (dTotal > 0) this.last = Math.min(1, Math.max(0, 1 - (cur.idle - base.idle) / dTotal));
    this.prev = cur;
    return this.last;
  }
}

/** Used and total bytes of the filesystem holding `path` (like df: used = blocks - free). Undefined when it cannot be read. */
export function diskUsage(path: string): { used: number; total: number } | undefined {
  try {
    const s = statfsSync(path);
    return { used: (s.blocks - s.bfree) * s.bsize, total: s.blocks * s.bsize };
  } catch {
    return undefined;
  }
}

/**
 * Host gauges of the System table: CPU, memory (used = total - available) and the
 * filesystems of `paths` (the state and log directories), labelled by path.
 */
export function registerHostMetrics(register: AnyRegistry, paths: readonly string[]): void {
  const cpu = new HostCpu();
  stateGauge(register, 'agentic_system_cpu_usage_ratio', 'Host CPU busy ratio; 1.0 is all cores.', [], (emit) => emit({}, cpu.ratio()));
  stateGauge(register, 'agentic_system_memory_used_bytes', 'Host memory in use (total minus available).', [], (emit) => emit({}, totalmem() - freemem()));
  stateGauge(register, 'agentic_system_memory_total_bytes', 'Host memory.', [], (emit) => emit({}, totalmem()));
  const unique = [...new Set(paths)];
  stateGauge(register, 'agentic_disk_used_bytes', 'Used bytes of the filesystem holding the path (state and log directories).', ['path'], (emit) => {
    for (const path of unique) { const d = diskUsage(path); if (d) emit({ path }, d.used); }
  });
  stateGauge(register, 'agentic_disk_total_bytes', 'Size of the filesystem holding the path (state and log directories).', ['path'], (emit) => {
    for (const path of unique) { const d = diskUsage(path); if (d) emit({ path }, d.total); }
  });
}
