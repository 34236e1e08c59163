import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ROTATED = /^(?<name>[a-z][a-z0-9_]*)(?:\.(?<stamp>\d{8}-\d{6})-(?<n>\d+))?\.log$/;

export interface LogFile {
  name: string;
  file: string;
  /** true for the live file (`<name>.log`), false for a rotated one. */
  current: boolean;
  mtimeMs: number;
  size: number;
}

/**
 * The log files of the store, oldest first within each stream: rotated files
 * (`<name>.<YYYYMMDD-HHMMSS>-<n>.log`) by time, then the live `<name>.log`.
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
      out.push({ name, file: path.join(dir, e), current: !m.groups.stamp, mtimeMs: st.mtimeMs, size: st.size });
    } catch {
      // rotated away meanwhile
    }
  }
  return out.sort((a, b) => (a.current === b.current ? a.mtimeMs - b.mtimeMs : a.current ? 1 : -1));
}
