import type { Target } from './Target.js';

/** An exit the health layer counts as a crash. */
export interface RecordedCrash {
  at: number;
  /** `crash: exited with code 1`, `crash: killed by SIGSEGV`, `spawn_error: …`. */
  reason: string;
}

/**
 * Remembers each replica's last crash. The restart policy restarts the first
 * crash of an episode at once, so the replica is running again before any round
 * sees it down; agent_response still reports it (degraded) until the new
 * process has run for `stableMs` (recovery.stable_uptime), the same point at
 * which the restart policy considers the episode over.
 */
export class CrashMemory {
  private readonly last = new Map<string, RecordedCrash>();

  constructor(readonly stableMs: number) {}

  /** Records an exit reported by the supervisor; intentional stops and restarts are not crashes. */
  record(slot: string, reason: string, at: number): void {
    if (reason.startsWith('crash') || reason.startsWith('spawn_error')) this.last.set(slot, { at, reason });
  }

  /** The crash of `t` that still counts at `now`: its current process started after it and has not run for stableMs. */
  recent(t: Target, now: number): RecordedCrash | undefined {
    const c = this.last.get(t.id);
    if (!c) return undefined;
    if (t.startedAt !== undefined && (t.startedAt < c.at || now - t.startedAt >= this.stableMs)) return undefined;
    return c;
  }

  forget(slot: string): void {
    this.last.delete(slot);
  }
}
