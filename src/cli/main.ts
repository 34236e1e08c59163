#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { handleBrokenPipes } from './brokenPipe.js';
import { CliError, EXIT } from './CliError.js';
import { registerBackgroundCommands } from './program.js';

handleBrokenPipes(); // `… | head`: end quietly when the reader goes away

const program = new Command('agentic-scrum-setup')
  .description('Supervise long-running background AI agents, with first-class observability')
  .version(VERSION)
  .exitOverride();
registerBackgroundCommands(program); // the command tree only: each command imports its modules when it runs

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = await report(err);
}

/**
 * Prints an error the way a user can act on and returns the exit code. The error
 * classes of the layers below are imported here, on the error path, so that a
 * command that succeeds never loads them.
 */
async function report(err: unknown): Promise<number> {
  if (err instanceof CommanderError) {
    // commander already printed its message (or help/version)
    return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (err instanceof CliError) {
    process.stderr.write(`${err.message}\n`);
    return err.exitCode;
  }
  const [{ ConfigError }, { isDiskFull }, { AlreadyRunningError }, { TokenFileError }] = await Promise.all([
    import('../config/ConfigError.js'),
    import('../store/DiskFullError.js'),
    import('../supervisor/SupervisorLock.js'),
    import('../supervisor/tokenFiles.js'),
  ]);
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    return EXIT.USAGE;
  }
  if (err instanceof AlreadyRunningError || err instanceof TokenFileError) {
    process.stderr.write(`${err.message}\n`);
    return EXIT.USAGE;
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
