import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

// Reading small /proc files cheaply: one scratch buffer, and stat files kept open between sampling rounds.

const scratch = { buf: Buffer.allocUnsafe(4096) };

/** Reads a whole small /proc file from `fd` at offset 0 (pread: on a kept descriptor, the kernel regenerates the content). */
function readFd(fd: number): string | undefined {
  let off = 0;
  try {
    for (;;) {
      if (off === scratch.buf.length) {
        const bigger = Buffer.allocUnsafe(scratch.buf.length * 2);
        scratch.buf.copy(bigger);
        scratch.buf = bigger;
      }
      const n = readSync(fd, scratch.buf, off, scratch.buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
  } catch {
    return undefined; // ESRCH: the process exited
  }
  return scratch.buf.toString('latin1', 0, off);
}

/** The text of a /proc file (open, read, close), or undefined when it is gone. */
export function readOnce(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    return readFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** The members' /proc/<pid>/stat through descriptors kept open between rounds, up to a budget. */
export class StatFiles {
  private readonly fds = new Map<number, number>();

  constructor(private readonly budget: number) {}

  get size(): number {
    return this.fds.size;
  }

  /** The stat text of `pid`, or undefined when no such process. A kept descriptor of an exited process fails: the pid is then opened again (it may name a new process). */
  read(pid: number): string | undefined {
    const kept = this.fds.get(pid);
    if (kept !== undefined) {
      const text = readFd(kept);
      if (text !== undefined) return text;
      this.drop(pid);
    }
    let fd: number;
    try {
      fd = openSync(`/proc/${pid}/stat`, 'r');
    } catch {
      return undefined;
    }
    const text = readFd(fd);
    if (text !== undefined && this.fds.size < this.budget) this.fds.set(pid, fd);
    else closeSync(fd);
    return text;
  }

  /** Closes the descriptors of pids not in `pids`. */
  retain(pids: Set<number>): void {
    for (const pid of [...this.fds.keys()]) if (!pids.has(pid)) this.drop(pid);
  }

  closeAll(): void {
    for (const pid of [...this.fds.keys()]) this.drop(pid);
  }

  private drop(pid: number): void {
    const fd = this.fds.get(pid);
    this.fds.delete(pid);
    if (fd !== undefined) try { closeSync(fd); } catch { /* already closed */ }
  }
}

/** Descriptors StatFiles may keep: a quarter of the soft limit, at most 2048. */
export function defaultFdBudget(): number {
  try {
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    if (soft === 'unlimited') return 2048;
    if (soft) return Math.min(2048, Math.floor(Number(soft) / 4));
  } catch {
    // not Linux, or no /proc/self/limits
  }
  return 256;
}
