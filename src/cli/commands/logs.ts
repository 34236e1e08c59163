import { closeSync, openSync, readSync, readFileSync, statSync } from 'node:fs';
import { listLogFiles, type LogFile } from '../../telemetry/logFiles.js';
import { formatRecord, matches, parseLevel, parseSince, type LogQuery, type LogRecord } from '../../telemetry/logFilter.js';
import { StreamJsonContext } from '../../telemetry/streamJsonLine.js';
import { CliError, EXIT } from '../CliError.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';

export interface LogsFlags extends StateDirFlags {
  follow?: boolean;
  since?: string;
  level?: string;
  correlationId?: string;
  task?: string;
  json?: boolean;
  lines?: string;
}

/**
 * `background logs [agent]`: reads the central store across rotated files,
 * merges streams by time, filters, and with --follow streams new lines like
 * `tail -f` (surviving rotation). Reads files, so it works after a crash too.
 */
export async function logsCommand(agent: string | undefined, flags: LogsFlags): Promise<number> {
  const q: LogQuery = {};
  if (flags.since) {
    q.since = parseSince(flags.since);
    if (q.since === undefined) throw new CliError(`--since: expected a duration like 10m, 2h, 1d or an ISO date, got ${JSON.stringify(flags.since)}`, EXIT.USAGE);
  }
  if (flags.level) {
    q.minLevel = parseLevel(flags.level);
    if (q.minLevel === undefined) throw new CliError(`--level: expected trace, debug, info, warn, error or fatal, got ${JSON.stringify(flags.level)}`, EXIT.USAGE);
  }
  if (flags.correlationId) q.traceId = flags.correlationId;
  if (flags.task) q.taskId = flags.task;
  const dir = (await resolveStateDir(flags)).logDir;
  const names = agent ? [agent] : undefined;
  const files = listLogFiles(dir, names);
  if (agent && files.length === 0 && !flags.follow) {
    const known = [...new Set(listLogFiles(dir).map((f) => f.name))];
    throw new CliError(`No logs for "${agent}" in ${dir}. Streams with logs: ${known.join(', ') || '(none yet)'}.`, EXIT.USAGE);
  }
  const limit = flags.lines ? Number(flags.lines) : flags.follow ? 20 : Infinity;
  const records: { rec: LogRecord; stream: string; raw: string }[] = [];
  for (const f of files) {
    for (const raw of readFileSync(f.file, 'utf8').split('\n')) {
      const rec = parse(raw);
      if (rec && matches(rec, q)) records.push({ rec, stream: f.name, raw });
    }
  }
  records.sort((a, b) => (a.rec.time ?? 0) - (b.rec.time ?? 0));
  // --json prints the stored lines as they are; the human view renders stream-json events as one line each.
  const ctx = new StreamJsonContext();
  const print = (r: { rec: LogRecord; stream: string; raw: string }) => process.stdout.write(`${flags.json ? r.raw : formatRecord(r.rec, r.stream, ctx)}\n`);
  for (const r of Number.isFinite(limit) ? records.slice(-limit) : records) print(r);
  if (!flags.follow) return EXIT.OK;
  return follow(dir, names, q, print);
}

function parse(raw: string): LogRecord | undefined {
  if (!raw.startsWith('{')) return undefined;
  try {
    return JSON.parse(raw) as LogRecord;
  } catch {
    return undefined;
  }
}

/** Polls the live files for appended bytes; a file that shrank or was replaced is read from its start. */
async function follow(dir: string, names: string[] | undefined, q: LogQuery, print: (r: { rec: LogRecord; stream: string; raw: string }) => void): Promise<number> {
  const offsets = new Map<string, { ino: number; pos: number; partial: string }>();
  for (const f of listLogFiles(dir, names).filter((x) => x.current)) offsets.set(f.file, { ino: statSync(f.file).ino, pos: f.size, partial: '' });
  let stop = false;
  process.once('SIGINT', () => { stop = true; });
  process.once('SIGTERM', () => { stop = true; });
  while (!stop) {
    for (const f of listLogFiles(dir, names).filter((x: LogFile) => x.current)) {
      let st;
      try { st = statSync(f.file); } catch { continue; }
      let o = offsets.get(f.file);
      if (!o || o.ino !== st.ino || st.size < o.pos) o = { ino: st.ino, pos: 0, partial: '' };
      if (st.size > o.pos) {
        const fd = openSync(f.file, 'r');
        const buf = Buffer.alloc(st.size - o.pos);
        readSync(fd, buf, 0, buf.length, o.pos);
        closeSync(fd);
        o.pos = st.size;
        const text = o.partial + buf.toString('utf8');
        const lines = text.split('\n');
        o.partial = lines.pop() ?? '';
        for (const raw of lines) {
          const rec = parse(raw);
          if (rec && matches(rec, q)) print({ rec, stream: f.name, raw });
        }
      }
      offsets.set(f.file, o);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return EXIT.OK;
}
