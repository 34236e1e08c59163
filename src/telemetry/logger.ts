import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogStore } from './LogStore.js';

export type { Logger };

/**
 * The supervisor's logger: JSON into the log store's `supervisor` stream, plus
 * the console: pretty on a TTY, JSON otherwise. Every line about an agent or task
 * carries `agent`, `role`, `task_id` and `trace_id` (child loggers add them).
 */
export function createSupervisorLogger(opts: { level: string; store?: LogStore | undefined; console: boolean }): Logger {
  const streams: pino.StreamEntry[] = [];
  if (opts.store) streams.push({ level: 'trace', stream: opts.store.stream('supervisor') });
  if (opts.console) {
    const tty = process.stdout.isTTY && !process.env.NO_COLOR;
    streams.push({ level: opts.level as pino.Level, stream: tty ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,component' }) : process.stdout });
  }
  return pino(
    { level: opts.level, base: { component: 'supervisor' }, timestamp: pino.stdTimeFunctions.epochTime },
    streams.length ? pino.multistream(streams) : pino.destination('/dev/null'),
  );
}
