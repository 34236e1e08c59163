import type { Supervisor } from './Supervisor.js';

/**
 * Says in the log when the state directory's disk fills up and when it takes
 * writes again, and on recovery writes what waited: the task outcomes kept in
 * memory, the pid file, then hands out pending tasks. (The log store reopens its
 * files on the same event.)
 */
export function watchDisk(sup: Supervisor): void {
  sup.disk.on('full', (st) => {
    sup.log.error(
      { path: st.path, free_bytes: st.freeBytes, store: st.store },
      `disk full: ${st.error}. Until there is room, new tasks and cancels are refused with 507, log lines are dropped (agentic_log_lines_dropped_total), task outcomes wait in memory and checkpoints are not stored; agents keep running and restarting`,
    );
  });
  sup.disk.on('recovered', ({ since, at, failures }) => {
    const queue = sup.sqliteQueue; // PostgreSQL's outcomes do not wait for this disk
    const kept = queue?.deferredWrites ?? 0;
    const written = queue?.flushDeferred() ?? 0;
    sup.writePidFile();
    sup.log.warn(
      { path: sup.disk.root, full_seconds: Math.round((at - since) / 1000), refused_writes: failures, outcomes_written: written },
      `disk takes writes again after ${((at - since) / 1000).toFixed(1)} s full (${failures} writes refused meanwhile)${kept ? `; ${written} of ${kept} task outcomes kept in memory written` : ''}`,
    );
    setImmediate(() => sup.pump());
  });
}
