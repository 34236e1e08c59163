import { pidsInGroup, readProcStat } from './procfs.js';
import { readJson, writeAtomic } from './StateDir.js';

export interface PidRecord { slot: string; pid: number; start_time: number }

/**
 * The pid file holds the real agent pids (not a wrapper's) with their /proc start
 * times. After a supervisor crash, the next supervisor terminates the process
 * groups it finds there, but only when pid and start time still match, so a
 * reused pid is never killed.
 */
export class OrphanReaper {
  /** @param onWriteError told when the pid file could not be written (a full disk); the previous file stays. */
  constructor(private readonly file: string, private readonly onWriteError?: (err: unknown) => void) {}

  /** Writes the pid file; returns false (and tells `onWriteError`) when it could not. */
  record(records: PidRecord[]): boolean {
    try {
      writeAtomic(this.file, JSON.stringify({ supervisor_pid: process.pid, agents: records }, null, 1), 0o600);
      return true;
    } catch (err) {
      // a full disk, or the state dir vanished (tests clean up)
      this.onWriteError?.(err);
      return false;
    }
  }

  read(): PidRecord[] {
    return readJson<{ agents?: PidRecord[] }>(this.file)?.agents ?? [];
  }

  /** Terminates surviving groups of a previous run: SIGTERM, then SIGKILL after `graceMs`. Returns the pids acted on. */
  async reapPrevious(graceMs = 3000): Promise<number[]> {
    const live = this.read().filter((r) => {
      if (r.pid === process.pid) return false;
      const st = readProcStat(r.pid);
      if (st !== undefined && st.state !== 'Z' && (r.start_time === 0 || st.startTime === r.start_time)) return true;
      // The leader died (its stdout went with the supervisor) but its group lives on.
      // Linux never reuses a pid while a process group still carries it as its id, so
      // members of group `pid` are that agent's orphans, never someone else's.
      return (st === undefined || st.state === 'Z') && pidsInGroup(r.pid).length > 0;
    });
    if (!live.length) return [];
    const signal = (sig: NodeJS.Signals) => {
      for (const r of live) {
        try { process.kill(-r.pid, sig); } catch { try { process.kill(r.pid, sig); } catch { /* gone */ } }
      }
    };
    signal('SIGTERM');
    signal('SIGCONT');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && live.some((r) => pidsInGroup(r.pid).length > 0)) await new Promise((res) => setTimeout(res, 50));
    signal('SIGKILL');
    return live.map((r) => r.pid);
  }
}
