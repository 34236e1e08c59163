import { z } from 'zod';
import { DEFAULT_PRICING } from '../supervisor/llmPricing.js';
import { agentName, argv, bool, emailAddress, envMap, envName, envVar, hostPort, int, listOf, num, oneOf, seconds, str, url } from './fields.js';

export { parseDurationSeconds, MAX_DURATION_SECONDS } from './fields.js';

/**
 * The configuration schema. The seed story's YAML block (`background.monitoring.*`)
 * is accepted verbatim; every other key has a default or is optional, except an
 * agent's `name` and `command`. Durations are in seconds: a number (`30`, `0.5`) or
 * a string with a unit (`"500ms"`, `"30s"`, `"5m"`, `"1h"`).
 * Every key is documented in docs/configuration.md; a test keeps the two in step.
 * Rules that span several keys (unique agent names, max_delay ≥ base_delay, …)
 * live in crossChecks.ts.
 */

const HTTP = ['http:', 'https:'] as const;

const probeSchema = z.strictObject({
  type: oneOf(['http', 'tcp', 'exec'] as const),
  url: url('an http(s) URL', HTTP).optional(),
  expected_status: int(100, 599, 'an HTTP status').default(200),
  address: hostPort.optional(),
  command: argv.optional(),
  period: seconds().default(10),
  timeout: seconds().default(2),
  failure_threshold: int(1, 1000).default(3),
});

const connectivityTarget = z.strictObject({
  name: str().optional(),
  url: url('an http(s) URL or tcp://host:port', [...HTTP, 'tcp:']).optional(),
  address: hostPort.optional(),
  timeout: seconds().default(5),
});

export const agentSchema = z.strictObject({
  name: agentName,
  /** The role tasks are submitted to; defaults to the name (filled in by parseConfig). Several agents may share a role. */
  role: agentName.optional(),
  mode: oneOf(['service', 'per_task'] as const).default('service'),
  command: argv,
  replicas: int(1, 1000).default(1),
  max_concurrent: int(1, 1000).default(3),
  env: envMap.default({}),
  secret_env: listOf('an environment variable name', 'environment variable names', envName).default([]),
  cwd: str('a directory path').optional(),
  stdout_adapter: oneOf(['none', 'ndjson', 'claude-stream-json'] as const).default('none'),
  /** per_task: longest stdout line (a claude `result`) read whole, bytes; longer ones are cut, counted and their usage read from their ends. */
  max_result_bytes: int(1024, 256 * 1024 * 1024, 'a size in bytes').default(64 * 1024 * 1024),
  stop_timeout: seconds().default(10),
  heartbeat_interval: seconds().default(5),
  restart: oneOf(['always', 'on-failure', 'never'] as const).default('always'),
  probe: probeSchema.optional(),
  connectivity: z.array(connectivityTarget).default([]),
  task_timeout: seconds().optional(),
  /** per_task: how long a run may stay alive after printing its `result` before it is killed (its task completes). */
  result_grace: seconds().default(10),
  /** per_task: argv appended when a task with a stored session is run again; default for claude-stream-json in resumeArgsOf. */
  resume_args: listOf('a string without NUL', 'strings', (x) => typeof x === 'string' && x.length > 0 && !x.includes('\0')).optional(),
  /** per_task, claude-stream-json: most assistant turns one run may take; the run is killed past it (budget_exceeded). */
  max_turns: int(1, 100_000, 'a number of turns').optional(),
  /** per_task, claude-stream-json: most one run may spend (USD, estimated from its token usage while it runs); killed past it. */
  max_cost_usd: num(0.0001, 1_000_000, 'US dollars').optional(),
  /** per_task: what the process reads on stdin: nothing, or the task's prompt. */
  stdin: oneOf(['none', 'prompt'] as const).default('none'),
});

const agentResponse = z.strictObject({
  enabled: bool().default(true),
  interval: seconds().optional(),
  timeout: seconds().default(10),
  max_failures: int(1, 1000).default(3),
  heartbeat_miss_multiplier: num(1, 1000, 'a multiple of heartbeat_interval').default(3),
});

const resourceUsage = z.strictObject({
  enabled: bool().default(true),
  interval: seconds().optional(),
  max_cpu_percent: num(1, 100_000, 'a CPU percentage (100 = one core)').default(80),
  max_memory_mb: num(1, 10_000_000, 'megabytes').default(1024),
  sustained_window: seconds().default(60),
  max_disk_percent: num(1, 100, 'a percentage').default(90),
});

const taskProgress = z.strictObject({
  enabled: bool().default(true),
  interval: seconds().optional(),
  max_task_duration: seconds().default(3600),
  stale_task_threshold: seconds().default(180),
  idle_cpu_percent: num(0, 100, 'a CPU percentage').default(1),
});

const memoryLeaks = z.strictObject({
  enabled: bool().default(true),
  interval: seconds().optional(),
  window: seconds().default(300),
  warmup: seconds().default(60),
  min_growth_mb_per_min: num(0, 1_000_000, 'MB per minute').default(1),
  min_r_squared: num(0, 1, 'a goodness of fit').default(0.6),
  restart_horizon: seconds().default(1800),
});

const llmProgress = z.strictObject({
  enabled: bool().default(true),
  max_repeats: int(2, 1000, 'a number of repeats').default(5),
  window: seconds().default(600),
  on_loop: oneOf(['fail', 'retry'] as const).default('fail'),
});

const connectivityCheck = z.strictObject({
  enabled: bool().default(true),
  interval: seconds().optional(),
  timeout: seconds().default(5),
});

const healthChecks = z.strictObject({
  agent_response: agentResponse.prefault({}),
  resource_usage: resourceUsage.prefault({}),
  task_progress: taskProgress.prefault({}),
  memory_leaks: memoryLeaks.prefault({}),
  llm_progress: llmProgress.prefault({}),
  connectivity: connectivityCheck.prefault({}),
});

const smtp = z.strictObject({
  host: str('a host name or IP address').default('127.0.0.1'),
  port: int(1, 65535, 'a TCP port').default(25),
  secure: bool().default(false),
  username: str().optional(),
  password_file: str('a file path').optional(),
});

const alerts = z.strictObject({
  email: z
    .strictObject({
      enabled: bool().default(false),
      recipients: listOf('an email address', 'email addresses', emailAddress).default([]),
      from: str('an email address').default('agentic-supervisor@localhost'),
      smtp: smtp.optional(),
    })
    .prefault({}),
  webhook: z
    .strictObject({
      enabled: bool().default(false),
      url: url('an http(s) URL', HTTP).optional(),
      timeout: seconds().default(5),
      retries: int(0, 20).default(3),
    })
    .prefault({}),
  console: z.strictObject({ enabled: bool().default(true) }).prefault({}),
});

const recovery = z.strictObject({
  restart_attempts: int(0, 1_000_000).default(5),
  backoff_multiplier: num(1, 100, 'a multiplier').default(2),
  circuit_breaker_threshold: int(1, 1_000_000).default(5),
  base_delay: seconds({ allowZero: true }).default(1),
  max_delay: seconds().default(60),
  jitter: num(0, 1, 'a fraction').default(0.2),
  stable_uptime: seconds().default(300),
  breaker_window: seconds().default(300),
  breaker_cooldown: seconds().default(60),
  breaker_max_cooldown: seconds().default(900),
  restart_unhealthy: bool().default(true),
});

const monitoring = z.strictObject({
  enabled: bool().default(true),
  check_interval: seconds().default(30),
  sample_interval: seconds().default(5),
  health_checks: healthChecks.prefault({}),
  alerts: alerts.prefault({}),
  recovery: recovery.prefault({}),
});

const server = z.strictObject({
  host: str('an IP address or host name').default('127.0.0.1'),
  port: int(0, 65535, 'a TCP port').default(9464),
  body_limit_bytes: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  metrics_auth: z.strictObject({ username: str(), password_file: str('a file path') }).optional(),
});

/** The wait before a task that failed (a counted attempt) is dispatched again. */
const retryBackoff = z.strictObject({
  initial: seconds({ allowZero: true }).default(5),
  max: seconds().default(300),
  multiplier: num(1, 100, 'a multiplier').default(2),
  jitter: num(0, 1, 'a fraction').default(0.2),
});

/**
 * The fleet backend's connection (issue 19). The URL holds the password, so it is never
 * written in the config: it comes from an environment variable or a file. `url` is
 * accepted by the schema only so that crossChecks can say that, once, by name.
 */
const queuePostgres = z.strictObject({
  url_env: envVar('the name of an environment variable holding the connection URL, such as AGENTIC_QUEUE_URL').optional(),
  url_file: str('a path to a file holding the connection URL').optional(),
  url: z.unknown().optional(),
  lease_seconds: num(1, 3600, 'seconds').default(30),
});

const queue = z.strictObject({
  backend: oneOf(['sqlite', 'postgres'] as const).default('sqlite'),
  postgres: queuePostgres.optional(),
  max_depth: int(1, 100_000_000).default(10_000),
  max_attempts: int(1, 1000).default(3),
  history_retention: int(0, 100_000_000).default(10_000),
  retry_backoff: retryBackoff.prefault({}),
});

const logging = z.strictObject({
  level: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const).default('info'),
  max_file_size_mb: num(0.01, 100_000, 'megabytes').default(10),
  max_files: int(1, 10_000).default(5),
  max_total_size_mb: num(0.1, 1_000_000, 'megabytes').default(500),
  max_age_days: num(0.001, 36_500, 'days').default(7),
});

const protocol = z.strictObject({
  max_line_bytes: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  max_checkpoint_bytes: int(16, 64 * 1024 * 1024).default(256 * 1024),
  checkpoint_history: int(1, 1000).default(5),
});

const modelPrice = z.strictObject({
  match: str('a part of a model id'),
  input: num(0, 1_000_000, 'USD per million tokens'),
  output: num(0, 1_000_000, 'USD per million tokens'),
  cache_write: num(0, 1_000_000, 'USD per million tokens').optional(),
  cache_read: num(0, 1_000_000, 'USD per million tokens').optional(),
});

const rateLimitBackoff = z.strictObject({
  base: seconds().default(30),
  max: seconds().default(600),
});

const budgetLimits = {
  per_hour_usd: num(0, 1_000_000_000, 'US dollars').optional(),
  per_day_usd: num(0, 1_000_000_000, 'US dollars').optional(),
};

const budgets = z.strictObject({
  fleet: z.strictObject(budgetLimits).prefault({}),
  roles: z.array(z.strictObject({ role: agentName, ...budgetLimits })).default([]),
});

const llm = z.strictObject({
  pricing: z.array(modelPrice).default(() => DEFAULT_PRICING.map((p) => ({ ...p }))),
  rate_limit_backoff: rateLimitBackoff.prefault({}),
  budgets: budgets.prefault({}),
});

export const backgroundSchema = z.strictObject({
  state_dir: str('a directory path').default('.agentic/background'),
  shutdown_timeout: seconds().default(15),
  server: server.prefault({}),
  queue: queue.prefault({}),
  logging: logging.prefault({}),
  protocol: protocol.prefault({}),
  monitoring: monitoring.prefault({}),
  llm: llm.prefault({}),
  agents: z.array(agentSchema).default([]),
});

export const configSchema = z.strictObject({ background: backgroundSchema });

export type Config = z.output<typeof configSchema>;
export type BackgroundConfig = Config['background'];
export type AgentConfig = z.output<typeof agentSchema>;
export type RecoveryConfig = BackgroundConfig['monitoring']['recovery'];
export type HealthChecksConfig = BackgroundConfig['monitoring']['health_checks'];
