/** Exit codes shared by every command (see docs/operations.md). */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, NOT_RUNNING: 3 } as const;

/** The `error.code` of a JSON error when nothing more specific is known, by exit code. */
export function codeForExit(exitCode: number): string {
  return exitCode === EXIT.USAGE ? 'usage' : exitCode === EXIT.NOT_RUNNING ? 'not_running' : 'failed';
}

/**
 * An error the CLI prints (message only, no stack) before exiting with `exitCode`.
 * `code` is the stable snake_case name a `--json` caller branches on (`unknown_agent`,
 * `not_running`, …); by default it names the exit code (`failed`, `usage`, `not_running`).
 */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.FAILED, readonly code: string = codeForExit(exitCode)) {
    super(message);
    this.name = 'CliError';
  }
}

/** True when the command line asks for JSON (`--json` before any `--`): errors then go to stderr as JSON too. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** The one line a `--json` command prints on stderr when it fails: `{"ok":false,"error":{"code":…,"message":…}}`. */
export function errorJson(code: string, message: string): string {
  return `${JSON.stringify({ ok: false, error: { code, message } })}\n`;
}
