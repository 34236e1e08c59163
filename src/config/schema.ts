import { z } from 'zod';

/**
 * The configuration schema. The seed story's YAML block (`background.monitoring.*`)
 * is accepted verbatim; everything else has a default. Durations are in seconds:
 * a number (`30`, `0.5`) or a string with a unit (`"500ms"`, `"30s"`, `"5m"`, `"1h"`).
 * Every key is documented in docs/configuration.md.
 */

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Parses `30`, `"30s"`, `"5m"` into seconds; returns NaN when it is not a duration. */
export function parseDurationSeconds(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return Number.NaN;
  const m = DURATION_RE.exec(value.trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * (UNIT_SECONDS[m[2] as string] as number);
}

const describe = (v: unknown): string =>
  v === undefined ? 'nothing' : v === null ? 'null' : typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `${String(v)} (${typeof v})`;

/** A positive duration in seconds (see parseDurationSeconds). */
const seconds = (opts: { allowZero?: boolean } = {}) =>
  z.unknown().transform((v, ctx) => {
    const s = parseDurationSeconds(v);
    const ok = Number.isFinite(s) && (opts.allowZero ? s >= 0 : s > 0);
    if (!ok) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a ${opts.allowZero ? 'non-negative' : 'positive'} number of seconds (or a duration like "30s", "5m"), got ${describe(v)}`,
      });
      return z.NEVER;
    }
    return s;
  });

const int = (min: number, max = Number.MAX_SAFE_INTEGER, what = 'integer') =>
  z.unknown().transform((v, ctx) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      ctx.addIssue({ code: 'custom', message: `expected ${what} from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got ${describe(v)}` });
      return z.NEVER;
    }
    return v;
  });

const num = (min: number, max: number, what: string) =>
  z.unknown().transform((v, ctx) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      ctx.addIssue({ code: 'custom', message: `expected ${what} from ${min} to ${max}, got ${describe(v)}` });
      return z.NEVER;
    }
    return v;
  });

const bool = () =>
  z.unknown().transform((v, ctx) => {
    if (typeof v !== 'boolean') {
      ctx.addIssue({ code: 'custom', message: `expected true or false, got ${describe(v)}` });
      return z.NEVER;
    }
    return v;
  });

const str = (what = 'a non-empty string') =>
  z.unknown().transform((v, ctx) => {
    if (typeof v !== 'string' || v.length === 0) {
      ctx.addIssue({ code: 'custom', message: `expected ${what}, got ${describe(v)}` });
      return z.NEVER;
    }
    return v;
  });

const oneOf = <T extends string>(values: readonly T[]) =>
  z.unknown().transform((v, ctx) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      ctx.addIssue({ code: 'custom', message: `expected one of ${values.map((x) => `"${x}"`).join(', ')}, got ${describe(v)}` });
      return z.NEVER;
    }
    return v as T;
  });

const NAME_RE = /^[a-z][a-z0-9_]{0,62}$/;
const agentName = z.unknown().transform((v, ctx) => {
  if (typeof v !== 'string' || !NAME_RE.test(v)) {
    ctx.addIssue({ code: 'custom', message: `expected a name of lowercase letters, digits and "_" starting with a letter (like "deva_python"), got ${describe(v)}` });
    return z.NEVER;
  }
  return v;
});

const argv = z.unknown().transform((v, ctx) => {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string')) {
    ctx.addIssue({ code: 'custom', message: `expected a non-empty list of strings (an argv array such as ["node", "agent.js"]; commands are never run through a shell), got ${describe(v)}` });
    return z.NEVER;
  }
  return v as string[];
});

const stringMap = z.record(z.string(), z.unknown()).transform((v, ctx) => {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'string') out[k] = val;
    else if (typeof val === 'number' || typeof val === 'boolean') out[k] = String(val);
    else ctx.addIssue({ code: 'custom', path: [k], message: `expected a string, got ${describe(val)}` });
  }
  return out;
});

const probeSchema = z.strictObject({
  type: oneOf(['http', 'tcp', 'exec'] as const),
  url: str('an http(s) URL').optional(),
  expected_status: int(100, 599, 'an HTTP status').default(200),
  address: str('"host:port"').optional(),
  command: argv.optional(),
  period: seconds().default(10),
  timeout: seconds().default(2),
  failure_threshold: int(1, 1000).default(3),
});

const connectivityTarget = z.strictObject({
  name: str().optional(),
  url: str('an http(s) URL or tcp://host:port').optional(),
  address: str('"host:port"').optional(),
  timeout: seconds().default(5),
});

export const agentSchema = z.strictObject({
  name: agentName,
  /** The role tasks are submitted to; defaults to the name. Several agents may share a role. */
  role: agentName.optional(),
  mode: oneOf(['service', 'per_task'] as const).default('service'),
  command: argv,
  replicas: int(1, 1000).default(1),
  max_concurrent: int(1, 1000).default(3),
  env: stringMap.default({}),
  secret_env: z.array(z.string()).default([]),
  cwd: str('a directory path').optional(),
  stdout_adapter: oneOf(['none', 'ndjson', 'claude-stream-json'] as const).default('none'),
  stop_timeout: seconds().default(10),
  heartbeat_interval: seconds().default(5),
  restart: oneOf(['always', 'on-failure', 'never'] as const).default('always'),
  probe: probeSchema.optional(),
  connectivity: z.array(connectivityTarget).default([]),
  task_timeout: seconds().optional(),
});

const healthChecks = z.strictObject({
  agent_response: z
    .strictObject({
      enabled: bool().default(true),
      interval: seconds().optional(),
      timeout: seconds().default(10),
      max_failures: int(1, 1000).default(3),
      heartbeat_miss_multiplier: num(1, 1000, 'a multiple of heartbeat_interval').default(3),
    })
    .default({ enabled: true, timeout: 10, max_failures: 3, heartbeat_miss_multiplier: 3 }),
  resource_usage: z
    .strictObject({
      enabled: bool().default(true),
      interval: seconds().optional(),
      max_cpu_percent: num(1, 100_000, 'a CPU percentage (100 = one core)').default(80),
      max_memory_mb: num(1, 10_000_000, 'megabytes').default(1024),
      sustained_window: seconds().default(60),
      max_disk_percent: num(1, 100, 'a percentage').default(90),
    })
    .default({ enabled: true, max_cpu_percent: 80, max_memory_mb: 1024, sustained_window: 60, max_disk_percent: 90 }),
  task_progress: z
    .strictObject({
      enabled: bool().default(true),
      interval: seconds().optional(),
      max_task_duration: seconds().default(3600),
      stale_task_threshold: seconds().default(180),
      idle_cpu_percent: num(0, 100, 'a CPU percentage').default(1),
    })
    .default({ enabled: true, max_task_duration: 3600, stale_task_threshold: 180, idle_cpu_percent: 1 }),
  memory_leaks: z
    .strictObject({
      enabled: bool().default(true),
      interval: seconds().optional(),
      window: seconds().default(300),
      warmup: seconds().default(60),
      min_growth_mb_per_min: num(0, 1_000_000, 'MB per minute').default(1),
      min_r_squared: num(0, 1, 'a goodness of fit').default(0.6),
    })
    .default({ enabled: true, window: 300, warmup: 60, min_growth_mb_per_min: 1, min_r_squared: 0.6 }),
  connectivity: z
    .strictObject({
      enabled: bool().default(true),
      interval: seconds().optional(),
      timeout: seconds().default(5),
    })
    .default({ enabled: true, timeout: 5 }),
});

const alerts = z.strictObject({
  email: z
    .strictObject({
      enabled: bool().default(false),
      recipients: z.array(z.string()).default([]),
      from: str().default('agentic-supervisor@localhost'),
      smtp: z
        .strictObject({
          host: str().default('127.0.0.1'),
          port: int(1, 65535, 'a TCP port').default(25),
          secure: bool().default(false),
          username: str().optional(),
          password_file: str('a file path').optional(),
        })
        .optional(),
    })
    .default({ enabled: false, recipients: [], from: 'agentic-supervisor@localhost' }),
  webhook: z
    .strictObject({
      enabled: bool().default(false),
      url: str('a URL').optional(),
      timeout: seconds().default(5),
      retries: int(0, 20).default(3),
    })
    .default({ enabled: false, timeout: 5, retries: 3 }),
  console: z.strictObject({ enabled: bool().default(true) }).default({ enabled: true }),
});

const recovery = z.strictObject({
  restart_attempts: int(0, 1_000_000).default(5),
  backoff_multiplier: num(1, 100, 'a multiplier').default(2),
  circuit_breaker_threshold: int(1, 1_000_000).default(5),
  base_delay: seconds({ allowZero: true }).default(1),
  max_delay: seconds().default(60),
  jitter: num(0, 1, 'a fraction').default(0.2),
  stable_uptime: seconds().default(60),
  breaker_window: seconds().default(300),
  breaker_cooldown: seconds().default(60),
  breaker_max_cooldown: seconds().default(900),
  restart_unhealthy: bool().default(true),
});

const monitoring = z.strictObject({
  enabled: bool().default(true),
  check_interval: seconds().default(30),
  sample_interval: seconds().default(5),
  health_checks: healthChecks.default(healthChecks.parse({})),
  alerts: alerts.default(alerts.parse({})),
  recovery: recovery.default(recovery.parse({})),
});

const server = z.strictObject({
  host: str('an IP address or host name').default('127.0.0.1'),
  port: int(0, 65535, 'a TCP port').default(9464),
  body_limit_bytes: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  metrics_auth: z.strictObject({ username: str(), password_file: str('a file path') }).optional(),
});

const queue = z.strictObject({
  max_depth: int(1, 100_000_000).default(10_000),
  max_attempts: int(1, 1000).default(3),
  history_retention: int(0, 100_000_000).default(10_000),
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

export const backgroundSchema = z.strictObject({
  state_dir: str('a directory path').default('.agentic/background'),
  shutdown_timeout: seconds().default(15),
  server: server.default(server.parse({})),
  queue: queue.default(queue.parse({})),
  logging: logging.default(logging.parse({})),
  protocol: protocol.default(protocol.parse({})),
  monitoring: monitoring.default(monitoring.parse({})),
  agents: z.array(agentSchema).default([]),
});

export const configSchema = z.strictObject({ background: backgroundSchema });

export type Config = z.output<typeof configSchema>;
export type BackgroundConfig = Config['background'];
export type AgentConfig = z.output<typeof agentSchema>;
export type RecoveryConfig = BackgroundConfig['monitoring']['recovery'];
export type HealthChecksConfig = BackgroundConfig['monitoring']['health_checks'];
