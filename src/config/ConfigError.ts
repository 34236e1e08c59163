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

  static format(problems: readonly ConfigProblem[], file?: string): string {
    const head = `Invalid configuration${file ? ` in ${file}` : ''} (${problems.length} problem${problems.length === 1 ? '' : 's'}):`;
    const lines = problems.map((p) => `  - ${p.path}: ${p.message}`);
    return [head, ...lines, 'Fix the keys above and run the command again; every key is documented in docs/configuration.md.'].join('\n');
  }
}
