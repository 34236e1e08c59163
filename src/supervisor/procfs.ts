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

/**
 * The process tree under each root pid (root included), from one scan of /proc.
 * Children are found by ppid, so it includes descendants that left the group.
 */
export function processTrees(roots: readonly number[]): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const name of safeReaddir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = readProcStat(pid);
    if (!st || st.state === 'Z') continue;
    const list = children.get(st.ppid);
    if (list) list.push(pid);
    else children.set(st.ppid, [pid]);
  }
  const result = new Map<number, number[]>();
  for (const root of roots) {
    const tree: number[] = [root];
    for (let i = 0; i < tree.length && tree.length < 10_000; i++) {
      for (const c of children.get(tree[i] as number) ?? []) tree.push(c);
    }
    result.set(root, tree);
  }
  return result;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
