import { statfsSync } from 'node:fs';
import os from 'node:os';
import type { DiskState } from '../store/DiskWatch.js';
import { round1 } from './format.js';
import type { Finding } from './types.js';

export interface DiskUsage {
  path: string;
  used_percent: number;
  free_bytes: number;
  total_bytes: number;
}

/** Host-wide figures next to the per-agent checks (the seed asks for CPU, memory and disk). */
export interface SystemResourcesReport {
  /** Busy share of all cores since the previous measurement, 0–100; undefined at the first. */
  cpu_percent: number | undefined;
  cores: number;
  load1: number;
  memory: { total_bytes: number; available_bytes: number; used_percent: number };
  /** The filesystems holding the state and log directories (one entry when they share one). */
  disks: DiskUsage[];
}

type CpuTimes = { idle: number; total: number };

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

/**
 * Measures host CPU, memory and the disks of `paths` (the state and log
 * directories); a disk fuller than `max_disk_percent` is a system finding
 * (degraded): the queue database and the logs live there. A disk that refuses
 * writes (`disk.state` is `full`: the stores report it at once) is unhealthy.
 */
export class SystemResources {
  private prev: CpuTimes | undefined;

  constructor(private readonly paths: readonly string[], private readonly maxDiskPercent: number, private readonly disk?: { readonly state: DiskState }) {}

  measure(): SystemResourcesReport {
    const now = cpuTimes();
    const cpu = this.prev && now.total > this.prev.total ? 100 * (1 - (now.idle - this.prev.idle) / (now.total - this.prev.total)) : undefined;
    this.prev = now;
    const total = os.totalmem();
    const available = os.freemem();
    const disks = new Map<string, DiskUsage>();
    for (const p of this.paths) {
      try {
        const s = statfsSync(p);
        const totalBytes = s.blocks * s.bsize;
        const key = `${s.type}:${s.blocks}:${s.bfree}`; // one entry per filesystem
        if (!disks.has(key) && totalBytes > 0) {
          disks.set(key, { path: p, used_percent: round1(100 * (1 - s.bavail / s.blocks)), free_bytes: s.bavail * s.bsize, total_bytes: totalBytes });
        }
      } catch {
        // not created yet
      }
    }
    return {
      cpu_percent: cpu === undefined ? undefined : round1(cpu), cores: os.cpus().length, load1: round1(os.loadavg()[0] ?? 0),
      memory: { total_bytes: total, available_bytes: available, used_percent: round1(100 * (1 - available / total)) },
      disks: [...disks.values()],
    };
  }

  findings(r: SystemResourcesReport, now: number): Finding[] {
    const st = this.disk?.state;
    // First: of two findings about one path, the first one counts.
    const refused: Finding[] = st?.kind === 'full' ? [{
      check: 'system', kind: 'disk', subject: st.path, severity: 'unhealthy', value: st.freeBytes ?? null, threshold: 0, unit: 'bytes', since: st.since, restart: false,
      message: `system: the disk holding ${st.path} refuses writes since ${new Date(st.since).toISOString()} (${st.failures} refused, last by the ${st.store} store; ${st.freeBytes ?? 'unknown'} bytes free) — new tasks are refused with 507 and log lines are dropped; free space on that filesystem: the supervisor recovers by itself`,
    }] : [];
    return [...refused, ...r.disks.filter((d) => d.used_percent > this.maxDiskPercent).map((d) => ({
      check: 'system', kind: 'disk', subject: d.path, severity: 'degraded', value: d.used_percent, threshold: this.maxDiskPercent, unit: '%', since: now, restart: false,
      message: `system: the filesystem holding ${d.path} is ${d.used_percent}% full (max_disk_percent ${this.maxDiskPercent}%), ${(d.free_bytes / 1024 ** 3).toFixed(1)} GB free — the task queue and logs need room: free space or move state_dir`,
    }) satisfies Finding)];
  }
}
