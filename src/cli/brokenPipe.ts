/**
 * What the CLI does when the reader of its output goes away (`… | head`, a closed
 * terminal): writes to stdout or stderr then fail with EPIPE. A command has nobody
 * left to tell anything, so it ends at once and quietly (no stack trace), with the
 * exit code it already had (0 unless it had failed). The supervisor in the
 * foreground is the exception: losing its console must not stop the supervision
 * of its agents, so it keeps running and writes only to its log store.
 */

type Mode = 'exit' | 'keep_running';
let mode: Mode = 'exit';

/** Errors that mean "the reader is gone" (a destroyed stream follows the first EPIPE). */
const GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ECONNRESET']);

function onStreamError(err: NodeJS.ErrnoException): void {
  if (!GONE.has(err.code ?? '')) throw err; // not ours to hide: the CLI's usual error path reports it
  if (mode === 'keep_running') return;
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
}

/** Installs the handler on stdout and stderr; called once by the CLI entry before any command runs. */
export function handleBrokenPipes(): void {
  process.stdout.on('error', onStreamError);
  process.stderr.on('error', onStreamError);
}

/** For the supervisor in the foreground: a broken console is ignored instead of ending the process. */
export function keepRunningOnBrokenPipe(): void {
  mode = 'keep_running';
}
