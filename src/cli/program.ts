import { Argument, Option, type Command } from 'commander';
import { lazyAction } from './lazyAction.js';

/**
 * The `background` command group, exactly as in the seed story. This file is the
 * command tree and nothing else: each action is imported when its command runs
 * (lazyAction), so `--help` and `--version` load no command and a command loads only
 * its own modules. Add a command as one registration that ends in
 * `.action(lazyAction(() => import('./commands/<file>.js'), '<export>'))`.
 */
export function registerBackgroundCommands(program: Command): Command {
  const bg = program.command('background').description('Run and inspect the background agent supervisor');
  const stateDirOpts = (c: Command) => c.option('--state-dir <dir>', 'supervisor state directory (env AGENTIC_STATE_DIR; default .agentic/background)').option('--config <file>', 'config file (to find its state_dir)');

  bg.command('start')
    .description('Start the supervisor (daemonizes unless --foreground)')
    .argument('[agent]', 'instead, start one agent or replica (e.g. qaa-1) that `stop <agent>` stopped, in the running supervisor')
    .option('--config <file>', 'YAML config file')
    .option('--foreground', 'stay attached; Ctrl-C stops everything')
    .option('--state-dir <dir>', 'state directory (overrides background.state_dir)')
    .option('--host <addr>', 'HTTP bind address (overrides background.server.host)')
    .option('--port <n>', 'HTTP port (overrides background.server.port)')
    .option('--log-level <level>', 'trace|debug|info|warn|error')
    .option('--ready-timeout <seconds>', 'how long to wait for readiness when daemonizing', '30')
    .option('--json', 'print the running supervisor (pid, url, state dir) as JSON once ready; with <agent>, {"ok":true,"action":"start","target":…} (what changed)')
    .addOption(new Option('--daemon-out <file>', 'internal: the daemon\'s stdout file, left once ready').hideHelp())
    .action(lazyAction(() => import('./commands/start.js'), 'startCommand'));

  stateDirOpts(bg.command('stop').description('Stop the supervisor and every agent gracefully'))
    .argument('[agent]', 'instead, stop one agent or replica (e.g. qaa-1) gracefully; it stays stopped, across supervisor restarts, until `start <agent>`')
    .option('--reason <text>', 'with <agent>: why, recorded in the event history')
    .option('--timeout <seconds>', 'how long to wait for the supervisor to exit', '60')
    .option('--json', 'machine-readable output (with <agent>: {"ok":true,"action":"stop","target":…}, what changed)')
    .action(lazyAction(() => import('./commands/stop.js'), 'stopCommand'));

  stateDirOpts(bg.command('status').description('Show every agent: state, pid, uptime, restarts, task, CPU, RSS'))
    .option('--json', 'machine-readable output')
    .action(lazyAction(() => import('./commands/status.js'), 'statusCommand'));

  stateDirOpts(bg.command('restart <agent>').description('Restart an agent (all replicas) or one replica (e.g. qaa-0); for a per_task agent, end its runs (or one, e.g. deva_ts-1): their tasks go back to the queue')).option('--json', 'machine-readable output').action(lazyAction(() => import('./commands/restart.js'), 'restartCommand'));

  stateDirOpts(bg.command('scale <agent> <replicas>').description('Start or stop replicas of a service agent until it has <replicas> (highest index stops first, gracefully); kept across supervisor restarts until the config\'s replicas changes'))
    .option('--json', 'print {"ok":true,"action":"scale","target":…,"from":…,"to":…} (what changed)')
    .action(lazyAction(() => import('./commands/scale.js'), 'scaleCommand'));

  bg.command('reload').description('Apply a changed config to the running supervisor: new agents start, removed ones stop, changed ones restart, unchanged ones are not touched (also: kill -HUP <pid>)')
    .option('--config <file>', 'the new config (default: the file the supervisor runs); its state_dir finds the supervisor')
    .option('--state-dir <dir>', 'supervisor state directory (env AGENTIC_STATE_DIR)')
    .option('--json', 'print {"ok":true,"action":"reload","added":…,"removed":…,"changed":…,"unchanged":…}')
    .action(lazyAction(() => import('./commands/reload.js'), 'reloadCommand'));

  stateDirOpts(bg.command('reset <agent>').description('Close an agent\'s circuit breaker by hand and start it again')).option('--json', 'machine-readable output').action(lazyAction(() => import('./commands/restart.js'), 'resetCommand'));

  stateDirOpts(bg.command('submit <role>').description('Queue a task for a role'))
    .option('--title <text>', 'task title (required)')
    .option('--prompt <text>', 'prompt for the agent')
    .option('--payload <json>', 'JSON payload for the agent')
    .option('--priority <1-10>', 'higher runs first (default 5)')
    .option('--id <id>', 'task id, e.g. STORY_320 (default: generated)')
    .option('--max-turns <n>', 'this task\'s limit on a run\'s assistant turns (overrides the agent\'s max_turns)')
    .option('--max-cost-usd <usd>', 'this task\'s limit on a run\'s cost in US dollars (overrides the agent\'s max_cost_usd)')
    .option('--json', 'print the created task as JSON')
    .action(lazyAction(() => import('./commands/submit.js'), 'submitCommand'));

  stateDirOpts(bg.command('logs [agent]').description('Show logs from the central store (all agents and the supervisor, or one agent)'))
    .option('-f, --follow', 'keep streaming new lines, like tail -f')
    .option('--since <duration>', 'only lines newer than this (10m, 2h, 1d, or an ISO date)')
    .option('--level <level>', 'minimum level: trace|debug|info|warn|error|fatal')
    .option('--correlation-id <id>', 'one task\'s whole story across the supervisor and the agent (its trace id, or the 8 characters log lines print)')
    .option('--task <id>', 'lines about one task')
    .option('-n, --lines <n>', 'only the last n lines (default: 100; 20 with --follow)')
    .option('--json', 'raw JSON lines')
    .action(lazyAction(() => import('./commands/logs.js'), 'logsCommand'));

  stateDirOpts(bg.command('metrics').description('Performance statistics: completion time percentiles, throughput, error rates, restarts, CPU and memory, LLM cost'))
    .option('--window <duration>', 'how far back (15m, 1h, 1d; default 15m, 7d with --llm)')
    .option('--llm', 'where the LLM money went: cost and tokens by role and by day, the ten most expensive stories, retries\' share')
    .option('--by <what>', 'with --llm: one breakdown only: role, day or story (every story of the window, most expensive first, up to --limit)')
    .option('--limit <n>', 'with --llm --by story: at most n stories (default 50, at most 1000)')
    .option('--json', 'machine-readable output')
    .action(lazyAction(() => import('./commands/metrics.js'), 'metricsCommand'));

  stateDirOpts(bg.command('tasks').description('List tasks'))
    .option('--status <status>', 'pending|in_progress|completed|failed|cancelled')
    .option('--role <role>', 'only this role')
    .option('--limit <n>', 'at most n tasks', '50')
    .option('--json', 'machine-readable output')
    .action(lazyAction(() => import('./commands/tasks.js'), 'tasksCommand'));

  stateDirOpts(bg.command('cancel <task-id>').description('Cancel a pending or running task (a running one is told to stop); exits 2 for an unknown id or a finished task'))
    .option('--json', 'print the task, with its attempt history, as JSON')
    .action(lazyAction(() => import('./commands/cancel.js'), 'cancelCommand'));

  stateDirOpts(bg.command('retry <task-id>').description('Queue a failed (dead-lettered) or cancelled task again with its attempts reset; its history is kept; exits 2 for an unknown id or a task in another state'))
    .option('--reason <text>', 'why, recorded with the retry in the task\'s history')
    .option('--json', 'print the task, with its attempt history, as JSON')
    .action(lazyAction(() => import('./commands/retry.js'), 'retryCommand'));

  stateDirOpts(bg.command('priority <task-id> <priority>').description('Give a pending task another priority, 1 (lowest) to 10 (highest); exits 2 for an unknown id, a task that is not pending or a priority outside 1-10'))
    .option('--json', 'print the task, with its attempt history, as JSON')
    .action(lazyAction(() => import('./commands/priority.js'), 'priorityCommand'));

  stateDirOpts(bg.command('ui').description('Print the URL of the web dashboard with a one-time login code (single use, 5 minutes)'))
    .option('--open', 'also open it in the desktop\'s browser')
    .option('--json', 'print {ok, action, url, expires_at}')
    .action(lazyAction(() => import('./commands/ui.js'), 'uiCommand'));

  stateDirOpts(bg.command('monitor').description('Live dashboard: system status, a row per agent, recent events (q quits)'))
    .option('--interval <seconds>', 'refresh period', '1')
    .option('--once', 'print one frame and exit')
    .option('--plain', 'plain refreshed table even on a terminal (the default when output is not a TTY)')
    .option('--json', 'a JSON snapshot per refresh, one per line (with --once: one document)')
    .action(lazyAction(() => import('./commands/monitor.js'), 'monitorCommand'));

  // Recovery controller and Alertmanager config (issue 6).
  const collect = (v: string, prev: string[]) => [...prev, v];
  stateDirOpts(bg.command('alerts').description('List the recovery controller\'s recent alert decisions (acted or skipped, with the reason)'))
    .option('--json', 'machine-readable output')
    .option('--limit <n>', 'at most n decisions', '20')
    .option('--url <url>', 'a standalone controller (background controller) instead of the supervisor')
    .option('--token-file <file>', 'with --url: the controller\'s webhook.token')
    .action(lazyAction(() => import('./commands/alerts.js'), 'alertsCommand'));

  bg.command('controller')
    .description('Run the recovery controller on its own, in front of one or more supervisors (Alertmanager webhook → restarts)')
    .option('--listen <host:port>', 'address to serve the webhook on', '127.0.0.1:9465')
    .option('--supervisor <url=token-file>', 'a supervisor and its api.token file (repeatable)', collect, [])
    .option('--map <instance=url>', 'route alerts whose instance label is <instance> to the supervisor at <url> (repeatable)', collect, [])
    .option('--state-dir <dir>', 'where decisions and dedupe claims are kept (env AGENTIC_CONTROLLER_STATE_DIR; default .agentic/controller)')
    .option('--token-file <file>', 'the bearer token Alertmanager must present, at least 16 characters (default <state-dir>/webhook.token; created 0600 when missing, never overwritten)')
    .option('--max-restarts-per-minute <n>', 'global limit on alert-driven restarts (env AGENTIC_CONTROLLER_MAX_RESTARTS_PER_MINUTE; default 6)')
    .option('--cooldown <seconds>', 'least time between two alert restarts of one replica (env AGENTIC_CONTROLLER_COOLDOWN_SECONDS; default 300)')
    .option('--log-level <level>', 'trace|debug|info|warn|error', 'info')
    .option('--json', 'start-up errors as JSON on stderr (the log is JSON lines already)')
    .action(lazyAction(() => import('./commands/controller.js'), 'controllerCommand'));

  bg.command('alerting').description('Alertmanager configuration generated from the YAML config')
    .command('render')
    .description('Write alertmanager.yml, its templates and the token file it references')
    .option('--config <file>', 'YAML config (background.monitoring.alerts, background.server)')
    .option('--out <dir>', 'output directory')
    .option('--controller-url <url>', 'the recovery controller (default: the supervisor at background.server)')
    .option('--credentials-file <path>', 'reference this webhook token file as is, instead of copying the token into --out')
    .option('--webhook-token-file <file>', 'copy the webhook token from here (default <state_dir>/webhook.token)')
    .option('--deadman-url <url>', 'dead-man\'s-switch service that receives the Watchdog alert')
    .option('--json', 'machine-readable output')
    .action(lazyAction(() => import('./commands/alerting.js'), 'alertingRenderCommand'));

  // The fleet's PostgreSQL schema (issue 19): versioned migrations, never by hand.
  const db = bg.command('db').description('The fleet\'s PostgreSQL database (background.queue.backend: postgres): its schema migrations');
  db.command('migrate').description('Apply the schema migrations the database lacks (what a supervisor does at start), saying which were applied and which were there; idempotent. With backend sqlite there is nothing to migrate (exit 0)')
    .option('--config <file>', 'the supervisors\' YAML config (background.queue.postgres names the URL\'s variable or file)')
    .option('--json', 'print {"ok":true,"action":"db migrate","applied":[…],"already":[…],"version":…,"expected":…}')
    .action(lazyAction(() => import('./commands/db.js'), 'dbMigrateCommand'));
  db.command('status').description('The database\'s schema version against the version this build expects, changing nothing; exits 0 when equal, 1 when migrations are pending or the database is newer')
    .option('--config <file>', 'the supervisors\' YAML config (background.queue.postgres names the URL\'s variable or file)')
    .option('--json', 'machine-readable output')
    .action(lazyAction(() => import('./commands/db.js'), 'dbStatusCommand'));

  stateDirOpts(bg.command('health').description('Health of every agent and of the system, with the diagnosis; exits 0 healthy, 1 degraded, 2 unhealthy, 3 no supervisor, 64 unknown --agent'))
    .option('--json', 'machine-readable output (the GET /api/v1/health body)')
    .option('--agent <name>', 'only this agent (by name) or replica (e.g. qaa-0); the exit status is its verdict')
    .action(lazyAction(() => import('./commands/health.js'), 'healthCommand'));

  bg.command('completion').description('Print a shell completion script: commands, options, and agent names (e.g. source <(agentic-scrum-setup background completion bash))')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(['bash', 'zsh', 'fish']))
    .action(lazyAction(() => import('./commands/completion.js'), 'completionCommand'));

  bg.command('conformance').description('Check an agent against the protocol spec (docs/protocol.md) under a scripted supervisor; prints a pass/fail row per check, exits 1 if one fails').argument('<command...>', 'the agent command, after --').option('--json', 'the rows as JSON').option('--transcript <file>', 'write every line both ways to <file>').option('--heartbeat-ms <ms>', 'welcome heartbeat_interval_ms (default 500)').option('--task-timeout <s>', 'seconds a task may take (default 30)').option('--shutdown-deadline-ms <ms>', 'shutdown deadline_ms (default 3000)').action(lazyAction(() => import('../conformance/command.js'), 'conformanceCommand'));
  return bg;
}
