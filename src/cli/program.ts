import type { Command } from 'commander';
import { logsCommand } from './commands/logs.js';
import { resetCommand, restartCommand } from './commands/restart.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { stopCommand } from './commands/stop.js';
import { submitCommand } from './commands/submit.js';
import { tasksCommand } from './commands/tasks.js';

/** Sets process.exitCode from a command's result (never calls process.exit: output must drain). */
const run = <A extends unknown[]>(fn: (...a: A) => Promise<number>) => async (...a: A) => {
  process.exitCode = await fn(...a);
};

/** The `background` command group, exactly as in the seed story. */
export function registerBackgroundCommands(program: Command): Command {
  const bg = program.command('background').description('Run and inspect the background agent supervisor');
  const stateDirOpts = (c: Command) => c.option('--state-dir <dir>', 'supervisor state directory (env AGENTIC_STATE_DIR; default .agentic/background)').option('--config <file>', 'config file (to find its state_dir)');

  bg.command('start')
    .description('Start the supervisor (daemonizes unless --foreground)')
    .option('--config <file>', 'YAML config file')
    .option('--foreground', 'stay attached; Ctrl-C stops everything')
    .option('--state-dir <dir>', 'state directory (overrides background.state_dir)')
    .option('--host <addr>', 'HTTP bind address (overrides background.server.host)')
    .option('--port <n>', 'HTTP port (overrides background.server.port)')
    .option('--log-level <level>', 'trace|debug|info|warn|error')
    .option('--ready-timeout <seconds>', 'how long to wait for readiness when daemonizing', '30')
    .action(run(startCommand));

  stateDirOpts(bg.command('stop').description('Stop the supervisor and every agent gracefully'))
    .option('--timeout <seconds>', 'how long to wait for the supervisor to exit', '60')
    .action(run(stopCommand));

  stateDirOpts(bg.command('status').description('Show every agent: state, pid, uptime, restarts, task, CPU, RSS'))
    .option('--json', 'machine-readable output')
    .action(run(statusCommand));

  stateDirOpts(bg.command('restart <agent>').description('Restart an agent (all replicas) or one replica (e.g. qaa-0)')).action(run(restartCommand));

  stateDirOpts(bg.command('reset <agent>').description('Close an agent\'s circuit breaker by hand and start it again')).action(run(resetCommand));

  stateDirOpts(bg.command('submit <role>').description('Queue a task for a role'))
    .option('--title <text>', 'task title (required)')
    .option('--prompt <text>', 'prompt for the agent')
    .option('--payload <json>', 'JSON payload for the agent')
    .option('--priority <1-10>', 'higher runs first (default 5)')
    .option('--id <id>', 'task id, e.g. STORY_320 (default: generated)')
    .option('--json', 'print the created task as JSON')
    .action(run(submitCommand));

  stateDirOpts(bg.command('logs [agent]').description('Show logs from the central store (all agents and the supervisor, or one agent)'))
    .option('-f, --follow', 'keep streaming new lines, like tail -f')
    .option('--since <duration>', 'only lines newer than this (10m, 2h, 1d, or an ISO date)')
    .option('--level <level>', 'minimum level: trace|debug|info|warn|error|fatal')
    .option('--correlation-id <id>', 'one task\'s whole story across the supervisor and the agent (its trace id)')
    .option('--task <id>', 'lines about one task')
    .option('-n, --lines <n>', 'only the last n lines (default: all; 20 with --follow)')
    .option('--json', 'raw JSON lines')
    .action(run(logsCommand));

  stateDirOpts(bg.command('tasks').description('List tasks'))
    .option('--status <status>', 'pending|in_progress|completed|failed|cancelled')
    .option('--role <role>', 'only this role')
    .option('--limit <n>', 'at most n tasks', '50')
    .option('--json', 'machine-readable output')
    .action(run(tasksCommand));

  return bg;
}
