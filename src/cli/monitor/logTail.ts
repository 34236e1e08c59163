import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { formatRecord, type LogRecord } from '../../telemetry/logFilter.js';
import { StreamJsonContext } from '../../telemetry/streamJsonLine.js';

/** How many bytes from the end of the log file are read at most (enough for a screenful). */
const TAIL_BYTES = 64 * 1024;

/**
 * The last `n` lines of an agent's live log file (`<logDir>/<agent>.log`, JSON
 * lines), formatted like `background logs`. With `replica`, lines from other
 * replicas of the same agent are left out. Lines that are not JSON are shown as
 * they are; claude stream-json events of per_task runs are rendered as one
 * readable line each. A missing file gives a one-line explanation, never an error.
 */
export function tailAgentLog(logDir: string, agent: string, n: number, replica?: string): string[] {
  const file = path.join(logDir, `${agent}.log`);
  let text: string;
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const len = Math.min(size, TAIL_BYTES);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, size - len);
      text = buf.toString('utf8');
      if (len < size) text = text.slice(text.indexOf('\n') + 1); // drop the partial first line
    } finally {
      closeSync(fd);
    }
  } catch {
    return [`(no log file ${file} yet)`];
  }
  const out: string[] = [];
  const ctx = new StreamJsonContext();
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    let rec: LogRecord | undefined;
    try {
      rec = raw.startsWith('{') ? (JSON.parse(raw) as LogRecord) : undefined;
    } catch {
      rec = undefined;
    }
    if (!rec) { out.push(raw); continue; }
    if (replica && typeof rec.replica === 'string' && rec.replica !== replica) continue;
    out.push(formatRecord(rec, agent, ctx));
  }
  return n > 0 ? out.slice(-n) : [];
}
