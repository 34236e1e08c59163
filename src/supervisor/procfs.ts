import { readFileSync, readdirSync } from 'node:fs';

/** Fields of /proc/<pid>/stat we use. `state` is R, S, D, T (stopped), Z, … */
export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgid: number;
  /** Start time in clock ticks since boot: with the pid, it identifies a process across pid reuse. */
  startTime: number;
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
  const rest = text.slice(close + 2).split(' ');
  return {
    pid,
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    pgid: Number(rest[2]),
    startTime: Number(rest[19]),
  };
}

/** Every live process whose process group is `pgid` (an agent's whole tree, unless it called setsid). */
export function pidsInGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const name of safeReaddir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = readProcStat(pid);
    if (st && st.pgid === pgid && st.state !== 'Z') out.push(pid);
  }
  return out;
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
