import { labelOf, totalsCounter, type AnyRegistry } from './define.js';

/** The stores that report refused writes (DiskWatch): present from 0. */
export const DISK_STORES = ['queue', 'checkpoints', 'events', 'pid_file', 'logs', 'other'] as const;

/**
 * `agentic_disk_writes_refused_total{store}`: writes the state directory's disk
 * refused (full, over quota, or an I/O error), from the disk watch's running totals.
 */
export function registerDiskWriteMetrics(register: AnyRegistry, disk: { failures(): ReadonlyMap<string, number> }): void {
  const store = labelOf('store');
  totalsCounter(register, 'agentic_disk_writes_refused_total', 'Writes the disk holding the state directory refused (full, over quota or an I/O error), by store: queue, checkpoints, events, pid_file, logs, other.', ['store'], (emit) => {
    const totals = disk.failures();
    for (const s of DISK_STORES) emit(store(s), totals.get(s) ?? 0);
  });
}
