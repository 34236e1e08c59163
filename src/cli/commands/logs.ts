import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { listLogFiles, type LogFile } from '../../telemetry/logFiles.js';
import { formatRecord, matches, parseLevel, parseSince, type LogQuery, type LogRecord } from '../../telemetry/logFilter.js';
import { parseLogLine, readLogLines } from '../../telemetry/logRead.js';
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
  const corr = flags.correlationId?.trim().toLowerCase();
  if (corr !== undefined && !/^[0-9a-f]{4,32}$/.test(corr)) {
    throw new CliError(`--correlation-id: expected the task's trace id (32 hex characters) or its first characters (at least 4, as log lines print 8), got ${JSON.stringify(flags.correlationId)}`, EXIT.USAGE);
  }
  if (corr?.length === 32) q.traceId = corr;
  if (flags.task) q.taskId = flags.task;
  const dir = (await resolveStateDir(flags)).logDir;
  const names = agent ? [agent] : undefined;
  const files = listLogFiles(dir, names);
  if (agent && files.length === 0 && !flags.follow) {
    const known = [...new Set(listLogFiles(dir).map((f) => f.name))];
    throw new CliError(`No logs for "${agent}" in ${dir}. Streams with logs: ${known.join(', ') || '(none yet)'}.`, EXIT.USAGE);
  }
  const limit = flags.lines ? Number(flags.lines) : flags.follow ? 20 : DEFAULT_LINES;
  let records = readLogLines(dir, names, q);
  if (corr !== undefined && corr.length < 32) {
    // A prefix (human log lines print `trace=<8 characters>`): it must name one task's trace.
    const ids = [...new Set(records.map((r) => traceOf(r.rec)).filter((id): id is string => id?.startsWith(corr) === true))];
    if (ids.length > 1) {
      throw new CliError(`--correlation-id ${corr} is ambiguous: it starts ${ids.length} correlation ids (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}). Give more characters.`, EXIT.USAGE);
    }
    if (ids[0]) q.traceId = ids[0];
    else if (flags.follow) throw new CliError(`--correlation-id ${corr}: no log line has a correlation id starting so yet; pass the whole id (32 characters) to follow a task that has not logged yet.`, EXIT.USAGE);
    records = records.filter((r) => traceOf(r.rec)?.startsWith(corr));
  }
  // --json prints the stored lines as they are; the human view renders stream-json events as one line each.
  const ctx = new StreamJsonContext();
  const print = (r: { rec: LogRecord; stream: string; raw: string }) => process.stdout.write(`${flags.json ? r.raw : formatRecord(r.rec, r.stream, ctx)}\n`);
  const shown = records.slice(-limit);
  if (shown.length < records.length && !flags.json && !flags.follow && process.stderr.isTTY) {
    process.stderr.write(`(the last ${shown.length} of ${records.length} lines; -n <count> for more)\n`);
  }
  for (const r of shown) print(r);
  if (!flags.follow) return EXIT.OK;
  return follow(dir, names, q, print);
}

/** How many lines `logs` prints without -n: the last 100, like `pm2 logs` prints its last lines. */
export const DEFAULT_LINES = 100;

const traceOf = (rec: LogRecord): string | undefined => (typeof rec.trace_id === 'string' ? rec.trace_id : typeof rec.correlation_id === 'string' ? rec.correlation_id : undefined);

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
          const rec = parseLogLine(raw);
          if (rec && matches(rec, q)) print({ rec, stream: f.name, raw });
        }
      }
      offsets.set(f.file, o);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return EXIT.OK;
}
