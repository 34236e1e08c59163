import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type { LogStore } from './LogStore.js';

export type { Logger };

/** The console as a logger destination: on until {@link ConsoleSink.detach}. */
export interface ConsoleSink {
  write(s: string): boolean;
  /** Lines the console refused (a full disk under a redirected stdout, a closed pipe). */
  readonly dropped: number;
  /** Stops writing to the console (the daemon, once ready: its lines are in the log store). */
  detach(): void;
}

/**
 * A console destination that never throws at the logger: stdout redirected to a
 * file on a full disk throws ENOSPC from a synchronous write, and a closed pipe
 * emits EPIPE; either drops the line (counted) instead of reaching the caller.
 */
export function createConsoleSink(): ConsoleSink {
  // A terminal gets readable text, one line per event (NO_COLOR or TERM=dumb only drop the
  // colours); a pipe or a file gets the JSON lines.
  const tty = Boolean(process.stdout.isTTY);
  const color = tty && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  const out = tty ? loadPretty()({ colorize: color, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,component' }) : process.stdout;
  out.on('error', () => undefined);
  let on = true;
  let dropped = 0;
  return {
    get dropped() {
      return dropped;
    },
    detach() {
      on = false;
    },
    write(s: string) {
      if (!on) return true;
      try {
        out.write(s);
      } catch {
        dropped++;
      }
      return true;
    },
  };
}

/**
 * The supervisor's logger: JSON into the log store's `supervisor` stream, plus
 * the console: one readable line per event on a TTY (coloured unless NO_COLOR), JSON otherwise. Every line about an agent or task
 * carries `agent`, `role`, `task_id` and `trace_id` (child loggers add them).
 * No destination throws or grows memory when the disk is full: the store drops
 * and counts, the console drops.
 */
export function createSupervisorLogger(opts: { level: string; store?: LogStore | undefined; console?: ConsoleSink | undefined }): Logger {
  const streams: pino.StreamEntry[] = [];
  if (opts.store) streams.push({ level: 'trace', stream: opts.store.sink('supervisor') });
  if (opts.console) streams.push({ level: opts.level as pino.Level, stream: opts.console });
  return pino(
    { level: opts.level, base: { component: 'supervisor' }, timestamp: pino.stdTimeFunctions.epochTime },
    streams.length ? pino.multistream(streams) : pino.destination('/dev/null'),
  );
}

/** pino-pretty, only for a console that is a terminal (about 1 MB of RSS otherwise unused). Synchronous, from its CommonJS build, so the console sink is ready at once. */
function loadPretty(): typeof import('pino-pretty') {
  return createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
}
