import { readFileSync } from 'node:fs';

/** Linux: most bytes of one argv or environment string, its terminating NUL included (32 pages). */
export const MAX_ARG_STRLEN = 131_072;
/** Linux never allows less than this for argv plus environment (fs/exec.c). */
const ARG_MAX_FLOOR = 131_072;
/** Linux caps argv plus environment at 3/4 of _STK_LIM (8 MiB), whatever the stack limit. */
const ARG_MAX_CAP = 6 * 1024 * 1024;
const POINTER_BYTES = 8;

/**
 * The most bytes argv plus environment may take in one execve on Linux: a quarter
 * of the stack's soft limit (what `getconf ARG_MAX` prints), at most 6 MiB, at
 * least 128 KiB. Read from /proc/self/limits (children inherit the limit); 2 MiB
 * (the 8 MiB default stack) when it cannot be read.
 */
export function argMax(limitsText?: string): number {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return 2 * 1024 * 1024;
    }
  }
  const m = /^Max stack size\s+(\S+)/m.exec(text);
  const soft = m?.[1] === 'unlimited' ? Infinity : Number(m?.[1]);
  if (!Number.isFinite(soft) && soft !== Infinity) return 2 * 1024 * 1024;
  return Math.max(ARG_MAX_FLOOR, Math.min(ARG_MAX_CAP, Math.floor(soft / 4)));
}

export class ArgvTooLongError extends Error {
  readonly code = 'ERR_ARGV_TOO_LONG';
  constructor(message: string, readonly bytes: number, readonly limit: number) {
    super(message);
    this.name = 'ArgvTooLongError';
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
const HINT = 'Pass a long prompt in a file with {prompt_file}, or on stdin with `stdin: prompt` (docs/configuration.md).';

/**
 * Checks that `argv` with `env` can be passed to execve: every string within
 * MAX_ARG_STRLEN, and all of them with their pointers within {@link argMax}.
 * Returns the problem, or undefined when it fits. `who` names the agent in the message.
 */
export function checkSpawnable(who: string, argv: readonly string[], env: Readonly<Record<string, string>>, limit = argMax()): ArgvTooLongError | undefined {
  let total = 0;
  for (const [i, arg] of argv.entries()) {
    const bytes = Buffer.byteLength(arg) + 1;
    if (bytes > MAX_ARG_STRLEN) {
      return new ArgvTooLongError(`the command of ${who} would get an argument of ${fmt(bytes - 1)} bytes (argv[${i}]); Linux allows at most ${fmt(MAX_ARG_STRLEN - 1)} bytes per argument (MAX_ARG_STRLEN ${fmt(MAX_ARG_STRLEN)} with its NUL). ${HINT}`, bytes - 1, MAX_ARG_STRLEN - 1);
    }
    total += bytes + POINTER_BYTES;
  }
  let envCount = 0;
  for (const [k, v] of Object.entries(env)) {
    const bytes = Buffer.byteLength(k) + Buffer.byteLength(v) + 2;
    if (bytes > MAX_ARG_STRLEN) {
      return new ArgvTooLongError(`the environment of ${who} would hold ${k} of ${fmt(bytes - 1)} bytes; Linux allows at most ${fmt(MAX_ARG_STRLEN - 1)} bytes per variable (MAX_ARG_STRLEN). Shorten it.`, bytes - 1, MAX_ARG_STRLEN - 1);
    }
    total += bytes + POINTER_BYTES;
    envCount++;
  }
  if (total > limit) {
    return new ArgvTooLongError(`the command and environment of ${who} would take ${fmt(total)} bytes (${argv.length} arguments, ${envCount} environment variables); Linux allows ${fmt(limit)} (ARG_MAX: a quarter of the stack limit, for arguments and environment together). ${HINT}`, total, limit);
  }
  return undefined;
}
