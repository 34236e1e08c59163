/** An error the CLI prints (message only, no stack) before exiting with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit codes shared by every command (see docs/operations.md). */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, NOT_RUNNING: 3 } as const;
