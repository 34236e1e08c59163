#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { handleBrokenPipes } from './brokenPipe.js';
import { CliError, EXIT, errorJson, wantsJson } from './CliError.js';
import { registerBackgroundCommands } from './program.js';

handleBrokenPipes(); // `… | head`: end quietly when the reader goes away

/** `--json`: every error, commander's included, is one JSON line on stderr (report() writes it). */
const json = wantsJson(process.argv.slice(2));
const program = new Command('agentic-scrum-setup')
  .description('Supervise long-running background AI agents, with first-class observability')
  .version(VERSION)
  .exitOverride();
if (json) program.configureOutput({ outputError: () => {} }); // set before the subcommands, which copy it
registerBackgroundCommands(program); // the command tree only: each command imports its modules when it runs

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = await report(err);
}

interface Failure {
  exit: number;
  /** The stable `error.code` of the JSON error. */
  code: string;
  /** What to print; undefined when commander has printed it already. */
  message: string | undefined;
}

/** Prints an error the way a user (or, with --json, a script) can act on and returns the exit code. */
async function report(err: unknown): Promise<number> {
  const f = await describeFailure(err);
  if (f.message !== undefined) process.stderr.write(json ? errorJson(f.code, f.message) : `${f.message}\n`);
  return f.exit;
}

/**
 * What went wrong, its code and its exit status. The error classes of the layers
 * below are imported here, on the error path, so that a command that succeeds never
 * loads them.
 */
async function describeFailure(err: unknown): Promise<Failure> {
  if (err instanceof CommanderError) {
    // commander printed its message (or help/version) unless --json silenced it: `commander.unknownOption` → `unknown_option`
    const exit = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    const code = err.code.replace(/^commander\./, '').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    return { exit, code, message: json && exit !== EXIT.OK ? err.message.replace(/^error: /, '') : undefined };
  }
  if (err instanceof CliError) return { exit: err.exitCode, code: err.code, message: err.message };
  const [{ ConfigError }, { isDiskFull }, { AlreadyRunningError }, { TokenFileError }] = await Promise.all([
    import('../config/ConfigError.js'),
    import('../store/DiskFullError.js'),
    import('../supervisor/SupervisorLock.js'),
    import('../supervisor/tokenFiles.js'),
  ]);
  if (err instanceof ConfigError) return { exit: EXIT.USAGE, code: 'config', message: err.message };
  if (err instanceof AlreadyRunningError) return { exit: EXIT.USAGE, code: 'already_running', message: err.message };
  if (err instanceof TokenFileError) return { exit: EXIT.USAGE, code: 'token_file', message: err.message };
  if (isDiskFull(err)) {
    // e.g. a start on a full disk: the lock, token and endpoint files need a little room
    const where = (err as { path?: string }).path;
    return { exit: EXIT.FAILED, code: 'disk_full', message: `${(err as Error).message}${where ? '' : ' (in the state directory)'}: the disk is full. Free space on it and try again (docs/operations.md, "Disk full").` };
  }
  return { exit: EXIT.FAILED, code: 'unexpected', message: `Unexpected error: ${(err as Error)?.stack ?? String(err)}\nPlease report this with the command you ran.` };
}
