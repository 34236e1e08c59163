/**
 * How long a command line may be, so that every command the config names can be
 * spawned. The kernel refuses an `execve` whose arguments are too long with E2BIG;
 * these limits turn that into a config error at load time, naming the key.
 *
 * Linux limits each single argument or environment string to MAX_ARG_STRLEN
 * (32 pages: 128 KiB, its terminating NUL included), and the whole of argv plus the
 * environment to ARG_MAX (a quarter of the stack limit: 2 MiB with the usual 8 MiB
 * stack). The command line may use half of that; the other half is left to the
 * environment the agent inherits. See docs/configuration.md, "Commands".
 */

/** Linux MAX_ARG_STRLEN: the longest argv or environment string, its NUL included (bytes). */
export const MAX_ARG_STRLEN = 128 * 1024;

/** The longest single argument, in bytes of UTF-8 (MAX_ARG_STRLEN less the NUL). */
export const MAX_ARG_BYTES = MAX_ARG_STRLEN - 1;

/** The most a whole command line may take, counted as the kernel does (see argvBytes): 1 MiB. */
export const MAX_ARGV_BYTES = 1024 * 1024;

/** The size of one pointer in the argv array the kernel copies (64-bit). */
const POINTER_BYTES = 8;

/** Bytes an argv takes against ARG_MAX: each argument's UTF-8 bytes, its NUL and its pointer. */
export function argvBytes(argv: readonly string[]): number {
  let total = POINTER_BYTES; // the terminating NULL pointer
  for (const a of argv) total += Buffer.byteLength(a, 'utf8') + 1 + POINTER_BYTES;
  return total;
}

/** One argument over the limit, or the whole command line: `index` is undefined for the latter. */
export interface ArgvLimitProblem {
  index: number | undefined;
  message: string;
}

const HINT = 'pass large data in a file (a path argument) or through the agent protocol instead';

/** Every way `argv` breaks the limits above; empty when it can be spawned. */
export function argvLimitProblems(argv: readonly string[]): ArgvLimitProblem[] {
  const problems: ArgvLimitProblem[] = [];
  argv.forEach((a, index) => {
    const bytes = Buffer.byteLength(a, 'utf8');
    if (bytes > MAX_ARG_BYTES) {
      problems.push({ index, message: `expected an argument of at most ${MAX_ARG_BYTES} bytes (Linux refuses a longer one: MAX_ARG_STRLEN is 128 KiB), got ${bytes} bytes; ${HINT}` });
    }
  });
  const total = argvBytes(argv);
  if (total > MAX_ARGV_BYTES) {
    problems.push({ index: undefined, message: `expected a command line of at most ${MAX_ARGV_BYTES} bytes in all (half of Linux's usual 2 MiB ARG_MAX; the rest is left to the environment), got ${total} bytes in ${argv.length} arguments; ${HINT}` });
  }
  return problems;
}

/** A `NAME=value` environment string over MAX_ARG_STRLEN, as a message; undefined when it fits. */
export function envEntryProblem(name: string, value: string): string | undefined {
  const bytes = Buffer.byteLength(name, 'utf8') + 1 + Buffer.byteLength(value, 'utf8');
  if (bytes <= MAX_ARG_BYTES) return undefined;
  return `expected an environment entry (NAME=value) of at most ${MAX_ARG_BYTES} bytes (Linux refuses a longer one: MAX_ARG_STRLEN is 128 KiB), got ${bytes} bytes; put large data in a file and pass its path`;
}
