import { printable } from './printable.js';

/** Problems listed in a message; the rest are counted. */
const MAX_LISTED = 50;

/** One problem found in a config file: the key path, and what was expected and found. */
export interface ConfigProblem {
  /**
   * Dotted key path, e.g. `background.monitoring.check_interval` or
   * `background.agents[2].command`; `(root)`, `(file)`, `(yaml)` or
   * `(line L, column C)` when the problem is not at a key.
   */
  readonly path: string;
  /** Worded "expected <what>, got <found>", or "unknown key; did you mean …". */
  readonly message: string;
}

/**
 * Thrown when configuration is invalid. `code` is stable; `problems` lists every
 * problem at once, so the user fixes the file in one pass. The CLI prints
 * `message` and exits with `exitCode` (2).
 */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  /** The process exit code for invalid configuration. */
  readonly exitCode = 2;
  constructor(
    readonly problems: readonly ConfigProblem[],
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super(ConfigError.format(problems, file), options);
    this.name = 'ConfigError';
  }

  /**
   * The message: a head line, one line per problem, and what to do. Text that came
   * from the file is made printable (no escape sequences or control characters)
   * and bounded: each path and message is cut at a few hundred characters, and at
   * most MAX_LISTED problems are listed (`problems` keeps them all).
   */
  static format(problems: readonly ConfigProblem[], file?: string): string {
    const head = `Invalid configuration${file ? ` in ${printable(file, 300)}` : ''} (${problems.length} problem${problems.length === 1 ? '' : 's'}):`;
    const lines = problems.slice(0, MAX_LISTED).map((p) => `  - ${printable(p.path, 200)}: ${printable(p.message, 600)}`);
    const more = problems.length - MAX_LISTED;
    if (more > 0) lines.push(`  … and ${more} more problem${more === 1 ? '' : 's'}`);
    return [head, ...lines, 'Fix the keys above and run the command again; every key is documented in docs/configuration.md.'].join('\n');
  }
}
