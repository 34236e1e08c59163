import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { listLogFiles, type LogFile } from './logFiles.js';
import { matches, type LogQuery, type LogRecord } from './logFilter.js';

/** One stored log line: its parsed record, the stream (file name) it came from, and the line as stored. */
export interface StoredLine {
  rec: LogRecord;
  stream: string;
  raw: string;
}

/** A stored line's record, or undefined for a line that is not a JSON object. */
export function parseLogLine(raw: string): LogRecord | undefined {
  if (!raw.startsWith('{')) return undefined;
  try {
    return JSON.parse(raw) as LogRecord;
  } catch {
    return undefined;
  }
}

function collect(text: string, f: LogFile, q: LogQuery, out: StoredLine[]): void {
  for (const raw of text.split('\n')) {
    // A record of the trace holds its id verbatim: lines without it are not parsed at all.
    if (q.traceId !== undefined && !raw.includes(q.traceId)) continue;
    const rec = parseLogLine(raw);
    if (rec && matches(rec, q)) out.push({ rec, stream: f.name, raw });
  }
}

const byTime = (a: StoredLine, b: StoredLine) => (a.rec.time ?? 0) - (b.rec.time ?? 0);

/**
 * The lines of the central log store (every stream, or `names`, across rotated
 * files) that match `q`, merged by time: what `background logs` prints.
 */
export function readLogLines(dir: string, names: readonly string[] | undefined, q: LogQuery): StoredLine[] {
  const out: StoredLine[] = [];
  for (const f of listLogFiles(dir, names)) collect(readFileSync(f.file, 'utf8'), f, q, out);
  return out.sort(byTime);
}

/**
 * {@link readLogLines} without blocking the event loop on file reads (the supervisor's
 * API). A file rotated away meanwhile is left out, and so is a file last written before
 * `modifiedSince` (epoch ms): it cannot hold a line of a task created after it.
 */
export async function readLogLinesAsync(dir: string, names: readonly string[] | undefined, q: LogQuery, modifiedSince = 0): Promise<StoredLine[]> {
  const out: StoredLine[] = [];
  for (const f of listLogFiles(dir, names)) {
    if (f.mtimeMs < modifiedSince) continue;
    let text: string;
    try {
      text = await readFile(f.file, 'utf8');
    } catch {
      continue;
    }
    collect(text, f, q, out);
  }
  return out.sort(byTime);
}
