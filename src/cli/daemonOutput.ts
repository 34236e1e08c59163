import { closeSync, fstatSync, openSync, readSync, truncateSync } from 'node:fs';
import { captureStdio } from '../telemetry/captureStdio.js';
import type { ConsoleSink } from '../telemetry/logger.js';
import type { LogStore } from '../telemetry/LogStore.js';

/** The log store stream of the daemon's own output (`logs/daemon.log`). */
export const DAEMON_STREAM = 'daemon';

/** At most this much of an old `daemon.out` is moved (its end); the rest goes. */
const MAX_ADOPTED_BYTES = 1024 * 1024;

/** The last `max` bytes of `file` as text. */
function tail(file: string, max: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const n = Math.min(size, max);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, size - n);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * The daemon, once ready, stops writing to `daemon.out` (the file `start` gave it
 * as stdout and stderr, where start-up errors are shown from):
 * - its console logging stops: those lines are in `supervisor.log` already;
 * - what it still writes to stdout or stderr goes to the log store's `daemon`
 *   stream, rotated and counted in `max_total_size_mb` with the other logs;
 * - the lines in `daemon.out` that are not the logger's (a previous run's crash
 *   report, say) move to that stream too, and the file is emptied.
 * Only what Node itself prints when it dies (a fatal error) still reaches
 * `daemon.out`; `start` shows it. Returns a function that puts stdout and stderr
 * back (call it after the store is closed).
 */
export function adoptDaemonOutput(store: LogStore, daemonOut: string, con: ConsoleSink | undefined): () => void {
  con?.detach();
  const restore = captureStdio(store, DAEMON_STREAM);
  try {
    const text = tail(daemonOut, MAX_ADOPTED_BYTES);
    for (const line of text.split('\n')) {
      if (line && !line.startsWith('{"level":')) store.write(DAEMON_STREAM, { level: 40, time: Date.now(), component: DAEMON_STREAM, stream: 'daemon.out', msg: line });
    }
    truncateSync(daemonOut, 0);
  } catch {
    // no daemon.out (started by hand with --daemon-out): nothing to move
  }
  return restore;
}
