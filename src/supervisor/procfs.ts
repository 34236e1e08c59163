import { closeSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';

/** Fields of /proc/<pid>/stat we use. `state` is R, S, D, T (stopped), Z, … */
export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgid: number;
  /** Start time in clock ticks since boot: with the pid, it identifies a process across pid reuse. */
  startTime: number;
  /** CPU time in user and kernel mode, clock ticks ({@link CLOCK_TICKS} a second). */
  utime: number;
  stime: number;
  /** Resident set size, pages ({@link pageSize} bytes). */
  rssPages: number;
}

/**
 * USER_HZ: the unit of the times in /proc/<pid>/stat. The kernel reports them in
 * USER_HZ whatever its own tick rate, and USER_HZ is 100 on every architecture
 * Node runs on (`getconf CLK_TCK`); pidusage assumes the same when getconf fails.
 */
export const CLOCK_TICKS = 100;

let pageBytes: number | undefined;
/** The kernel's page size in bytes (the unit of the rss field): from this process's first mapping in /proc/self/smaps; 4096 when unreadable. */
export function pageSize(): number {
  if (pageBytes === undefined) {
    pageBytes = 4096;
    let fd: number | undefined;
    try {
      fd = openSync('/proc/self/smaps', 'r');
      const buf = Buffer.alloc(4096);
      const n = readSync(fd, buf, 0, buf.length, 0);
      const kb = Number(/KernelPageSize:\s+(\d+) kB/.exec(buf.toString('latin1', 0, n))?.[1]);
      if (Number.isInteger(kb) && kb > 0) pageBytes = kb * 1024;
    } catch {
      // not Linux: the default
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return pageBytes;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseStat(pid, text);
}

export function parseStat(pid: number, text: string): ProcStat {
  // comm may contain spaces and parentheses: split after the last ')'.
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ', 22);
  return {
    pid,
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    pgid: Number(rest[2]),
    startTime: Number(rest[19]),
    utime: Number(rest[11]),
    stime: Number(rest[12]),
    rssPages: Number(rest[21]),
  };
}

/**
 * Every live process whose process group is `pgid` (an agent's whole tree, unless it called setsid).
 * An empty group is answered by one `kill(-pgid, 0)` (ESRCH); only a group that still has a
 * member (or a zombie) costs a scan of every /proc/<pid>/stat on the host. That is the common
 * case after an agent exits, and the scan would otherwise sit between its exit and its restart.
 */
export function pidsInGroup(pgid: number): number[] {
  if (!groupMayExist(pgid)) return [];
  const out: number[] = [];
  for (const name of safeReaddir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = readProcStat(pid);
    if (st && st.pgid === pgid && st.state !== 'Z') out.push(pid);
  }
  return out;
}

/** False when no process at all (not even a zombie) is in group `pgid`; true when one may be. */
export function groupMayExist(pgid: number): boolean {
  if (!(pgid > 1)) return true; // never signal -0 or -1 (the caller's own group, every process)
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
