#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/ConfigError.js';
import { isDiskFull } from '../store/DiskFullError.js';
import { AlreadyRunningError } from '../supervisor/SupervisorLock.js';
import { TokenFileError } from '../supervisor/tokenFiles.js';
import { VERSION } from '../version.js';
import { handleBrokenPipes } from './brokenPipe.js';
import { CliError, EXIT } from './CliError.js';
import { registerBackgroundCommands } from './program.js';

handleBrokenPipes(); // `… | head`: end quietly when the reader goes away

const program = new Command('agentic-scrum-setup')
  .description('Supervise long-running background AI agents, with first-class observability')
  .version(VERSION)
  .exitOverride();
registerBackgroundCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = report(err);
}

/** Prints an error the way a user can act on and returns the exit code. */
function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (or help/version)
    return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    return EXIT.USAGE;
  }
  if (err instanceof AlreadyRunningError || err instanceof TokenFileError) {
    process.stderr.write(`${err.message}\n`);
    return EXIT.USAGE;
  }
  if (err instanceof CliError) {
    process.stderr.write(`${err.message}\n`);
    return err.exitCode;
  }
  if (isDiskFull(err)) {
    // e.g. a start on a full disk: the lock, token and endpoint files need a little room
    const where = (err as { path?: string }).path;
    process.stderr.write(`${(err as Error).message}${where ? '' : ' (in the state directory)'}: the disk is full. Free space on it and try again (docs/operations.md, "Disk full").\n`);
    return EXIT.FAILED;
  }
  process.stderr.write(`Unexpected error: ${(err as Error)?.stack ?? String(err)}\nPlease report this with the command you ran.\n`);
  return EXIT.FAILED;
}
