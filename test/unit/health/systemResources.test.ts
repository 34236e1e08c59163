import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { SystemResources, type SystemResourcesReport } from '../../../src/health/systemResources.js';
import type { DiskState } from '../../../src/store/DiskWatch.js';

const report = (usedPercent: number): SystemResourcesReport => ({
  cpu_percent: 1, cores: 2, load1: 0.1,
  memory: { total_bytes: 8e9, available_bytes: 4e9, used_percent: 50 },
  disks: [{ path: '/srv/state', used_percent: usedPercent, free_bytes: 0, total_bytes: 20e6 }],
});

describe('SystemResources disk findings', () => {
  it('is degraded past max_disk_percent and unhealthy, first, while the disk refuses writes', () => {
    const disk: { state: DiskState } = { state: { kind: 'ok' } };
    const sys = new SystemResources([tmpdir()], 90, disk);
    expect(sys.findings(report(50), 1000)).toEqual([]);
    expect(sys.findings(report(100), 1000)).toMatchObject([{ kind: 'disk', severity: 'degraded', subject: '/srv/state', value: 100, threshold: 90 }]);
    disk.state = { kind: 'full', since: 500, path: '/srv/state', freeBytes: 0, store: 'queue', error: 'could not store the task: …', failures: 7 };
    const f = sys.findings(report(100), 1000);
    expect(f[0]).toMatchObject({ check: 'system', kind: 'disk', subject: '/srv/state', severity: 'unhealthy', value: 0, unit: 'bytes', since: 500, restart: false });
    expect(f[0]?.message).toBe('system: the disk holding /srv/state refuses writes since 1970-01-01T00:00:00.500Z (7 refused, last by the queue store; 0 bytes free) — new tasks are refused with 507 and log lines are dropped; free space on that filesystem: the supervisor recovers by itself');
    disk.state = { kind: 'ok' };
    expect(sys.findings(report(100), 1000).map((x) => x.severity)).toEqual(['degraded']);
  });
});
