import { readFileSync } from 'node:fs';
import type { TaskOutputReader } from '../supervisor/recoverInProgress.js';
import { listLogFiles } from './logFiles.js';
import { matches, type LogRecord } from './logFilter.js';

/** File mtimes can be coarse (1–2 s on some file systems): a file this close before `sinceMs` is still read. */
const MTIME_SLACK_MS = 2000;

/**
 * The stdout lines `agent` printed for `taskId` at or after `sinceMs` (epoch ms), from
 * the central log store's files in `dir` (rotated ones, then the live one), oldest first,
 * each as the stored JSON record. Files last written before `sinceMs` are not read; a
 * line that does not name the task is not parsed.
 */
export function readTaskStdout(dir: string, agent: string, taskId: string, sinceMs: number): string[] {
  const out: string[] = [];
  for (const f of listLogFiles(dir, [agent])) {
    if (f.mtimeMs + MTIME_SLACK_MS < sinceMs) continue;
    let text: string;
    try {
      text = readFileSync(f.file, 'utf8');
    } catch {
      continue; // rotated away meanwhile
    }
    for (const raw of text.split('\n')) {
      if (!raw.startsWith('{') || !raw.includes(taskId)) continue;
      let rec: LogRecord;
      try {
        rec = JSON.parse(raw) as LogRecord;
      } catch {
        continue; // a torn last line
      }
      if (rec.stream === 'stdout' && matches(rec, { taskId, since: sinceMs })) out.push(raw);
    }
  }
  return out;
}

/** A TaskOutputReader over the log store in `dir` (the supervisor's `<state_dir>/logs`). */
export function logStoreTaskOutput(dir: string): TaskOutputReader {
  return { stdoutLines: (agent, taskId, sinceMs) => readTaskStdout(dir, agent, taskId, sinceMs) };
}
