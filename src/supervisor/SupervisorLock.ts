import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { isAlive, readProcStat } from './procfs.js';

/** Thrown when another live supervisor holds the state directory. */
export class AlreadyRunningError extends Error {
  readonly code = 'ERR_ALREADY_RUNNING';
  constructor(readonly pid: number, readonly lockFile: string) {
    super(`A supervisor is already running for this state directory (pid ${pid}, lock ${lockFile}). Stop it with "agentic-scrum-setup background stop", or use another --state-dir.`);
    this.name = 'AlreadyRunningError';
  }
}

interface LockContent { pid: number; start_time: number }

/**
 * One supervisor per state directory. The lock file is created with O_EXCL and
 * holds our pid and process start time; a lock whose owner is dead (or whose pid
 * was reused by another process) is stale and taken over.
 */
export class SupervisorLock {
  private held = false;
  constructor(private readonly file: string) {}

  /** @throws AlreadyRunningError when a live supervisor holds the lock. */
  acquire(): void {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.file, 'wx', 0o600);
        const me: LockContent = { pid: process.pid, start_time: readProcStat(process.pid)?.startTime ?? 0 };
        writeSync(fd, JSON.stringify(me));
        closeSync(fd);
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = this.owner();
      if (owner) throw new AlreadyRunningError(owner, this.file);
      try {
        unlinkSync(this.file); // stale
      } catch {
        // raced with another starter; retry
      }
    }
    const owner = this.owner();
    throw new AlreadyRunningError(owner ?? -1, this.file);
  }

  /** The pid of the live process holding the lock, if any. */
  owner(): number | undefined {
    let content: LockContent;
    try {
      content = JSON.parse(readFileSync(this.file, 'utf8')) as LockContent;
    } catch {
      return undefined;
    }
    if (!Number.isInteger(content.pid) || !isAlive(content.pid)) return undefined;
    const st = readProcStat(content.pid);
    if (st && content.start_time && st.startTime !== content.start_time) return undefined; // pid reused
    return content.pid;
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      unlinkSync(this.file);
    } catch {
      // already gone
    }
  }
}
