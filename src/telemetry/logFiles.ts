import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ROTATED = /^(?<name>[a-z][a-z0-9_]*)(?:\.(?<stamp>\d{8}-\d{6})-(?<n>\d+))?\.log$/;

export interface LogFile {
  name: string;
  file: string;
  /** true for the live file (`<name>.log`), false for a rotated one. */
  current: boolean;
  /** A rotated file's name: when it was rotated (`YYYYMMDD-HHMMSS`) and its index within that second. */
  stamp: string;
  index: number;
  mtimeMs: number;
  size: number;
}

/**
 * The log files of the store, oldest first within each stream: rotated files
 * (`<name>.<YYYYMMDD-HHMMSS>-<n>.log`) by time ({@link oldestFirst}), then the live `<name>.log`.
 * `names` restricts to some streams (an agent name, `supervisor`).
 */
export function listLogFiles(dir: string, names?: readonly string[]): LogFile[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out: LogFile[] = [];
  for (const e of entries) {
    const m = ROTATED.exec(e);
    if (!m?.groups) continue;
    const name = m.groups.name as string;
    if (names && !names.includes(name)) continue;
    try {
      const st = statSync(path.join(dir, e));
      out.push({ name, file: path.join(dir, e), current: !m.groups.stamp, stamp: m.groups.stamp ?? '', index: Number(m.groups.n ?? 0), mtimeMs: st.mtimeMs, size: st.size });
    } catch {
      // rotated away meanwhile
    }
  }
  return out.sort(oldestFirst);
}

/**
 * The live file last; rotated files by when they were last written, and where the
 * file system's timestamps tie (their granularity is a kernel tick, and a flood rotates
 * several files within one), by the rotation's time and index in the name: the
 * stream numbers the files it rotates within one second 1, 2, 3… in order.
 */
function oldestFirst(a: LogFile, b: LogFile): number {
  if (a.current !== b.current) return a.current ? 1 : -1;
  return a.mtimeMs - b.mtimeMs || a.stamp.localeCompare(b.stamp) || a.index - b.index;
}
