import type { DestinationStream } from 'pino';
import { ENV } from './constants.js';
import { Agent, type AgentIdentity, type AgentInit } from './Agent.js';
import { AgentSdkError } from './errors.js';
import { handshake } from './handshake.js';
import { loadTracing } from './lazyTracing.js';
import type { Logger } from './logger.js';
import { maybeExportTraces } from './otel.js';
import { DEFAULT_SETTINGS } from './supervisorMessage.js';

export interface ConnectOptions {
  /** Announced in `hello`. Without `tasks` the supervisor assigns no queued tasks. Default `['tasks', 'checkpoint']`. */
  capabilities?: readonly string[];
  /** How long to wait for `welcome`, in milliseconds. Default 10000. */
  welcomeTimeoutMs?: number;
  /** Name and role used when the environment does not give them (standalone runs). Default: `agent`, and the name. */
  name?: string;
  role?: string;
  /** pino level. Default `LOG_LEVEL` from the environment, else `info`. */
  logLevel?: string;
  /** Where log lines go instead of stdout (tests). */
  logDestination?: DestinationStream;
  /** Exit the process after a supervisor `shutdown` or the channel's end. Default true. */
  exitOnShutdown?: boolean;
  /** How to exit. Default `process.exit`. */
  exit?: (code: number) => void;
  /** Time the hooks get on channel end, a signal or `close()`, in milliseconds. Default 5000. */
  shutdownTimeoutMs?: number;
  /** Treat SIGTERM and SIGINT as a shutdown (hooks, then exit 0; a second signal exits at once). Default true. */
  handleSignals?: boolean;
  /** Environment to read (tests). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * The agent's own OpenTelemetry metrics. By default (`true`), when connected and
   * no global meter provider is registered yet, connect() registers one whose
   * metrics go to the supervisor's /metrics (capability `metrics`): record them
   * with `metrics.getMeter(…)` from `@opentelemetry/api`. `intervalMs` is the time
   * between two `metrics` messages (default 10000); a last one is sent at shutdown.
   * `false` registers nothing (and skips loading the OTel metrics SDK, about 100 ms).
   */
  metrics?: boolean | { intervalMs?: number };
}

/** Default milliseconds between two `metrics` messages. */
export const DEFAULT_METRICS_INTERVAL_MS = 10_000;

/**
 * Connects to the supervisor over the channel in `AGENTIC_PROTOCOL_FD`: sends
 * `hello`, waits for `welcome`, starts heartbeats and answers pings. Without that
 * variable it returns a no-op Agent (`connected === false`) so the code runs standalone.
 * `hello` goes out before pino and OpenTelemetry are loaded: they load while the
 * supervisor answers.
 * @throws AgentSdkError code INVALID_OPTION, INVALID_FD, WELCOME_TIMEOUT or CHANNEL_CLOSED.
 */
export async function connect(options: ConnectOptions = {}): Promise<Agent> {
  const env = options.env ?? process.env;
  const welcomeTimeoutMs = positive('welcomeTimeoutMs', options.welcomeTimeoutMs, 10_000);
  const shutdownTimeoutMs = positive('shutdownTimeoutMs', options.shutdownTimeoutMs, 5000);
  const name = env[ENV.AGENT_NAME] || options.name || 'agent';
  const fallback: AgentIdentity = { name, id: env[ENV.AGENT_ID] || name, role: env[ENV.AGENT_ROLE] || options.role || name, replica: 0 };
  const level = options.logLevel ?? env.LOG_LEVEL ?? 'info';
  const makeLogger = async (id: AgentIdentity): Promise<Logger> =>
    (await import('./logger.js')).createAgentLogger({ agent: id.name, agent_id: id.id, role: id.role }, level, options.logDestination);
  const base = {
    exitOnShutdown: options.exitOnShutdown ?? true,
    exit: options.exit ?? ((code: number) => process.exit(code)),
    shutdownTimeoutMs,
    handleSignals: options.handleSignals ?? true,
  };
  const metricsIntervalMs = positive('metrics.intervalMs', typeof options.metrics === 'object' ? options.metrics.intervalMs : undefined, DEFAULT_METRICS_INTERVAL_MS);
  const rawFd = env[ENV.PROTOCOL_FD];
  if (rawFd === undefined || rawFd === '') {
    const attachTracing = await maybeExportTraces(env, `agent:${name}`);
    const agent = new Agent({ ...base, identity: fallback, restoredState: null, settings: { ...DEFAULT_SETTINGS }, logger: await makeLogger(fallback), transport: null });
    agent.logger.debug(`${ENV.PROTOCOL_FD} is not set: running standalone (no-op protocol)`);
    attachTracing?.(agent);
    return agent;
  }
  const fd = Number(rawFd);
  if (!/^\d+$/.test(rawFd) || !Number.isSafeInteger(fd)) {
    throw new AgentSdkError('INVALID_FD', `Expected ${ENV.PROTOCOL_FD} to be a file descriptor number, got ${JSON.stringify(rawFd)}. Unset it to run standalone.`);
  }
  // An application that registered its own meter provider keeps it (and gets no `metrics` capability).
  const withMetrics = options.metrics !== false && !(await meterProviderRegistered());
  const capabilities = [...(options.capabilities ?? ['tasks', 'checkpoint'])];
  if (withMetrics && !capabilities.includes('metrics')) capabilities.push('metrics');
  const shake = await handshake(fd, capabilities, welcomeTimeoutMs, () => {
    // `hello` is out: load the rest while the supervisor answers (each settles; errors are handled below).
    const loads = {
      tracing: maybeExportTraces(env, `agent:${name}`),
      metrics: withMetrics ? import('./metricsExport.js') : undefined,
      logger: import('./logger.js'),
      span: loadTracing(),
    };
    for (const p of Object.values(loads)) p?.catch(() => undefined);
    return loads;
  });
  const { welcome, channel, loads } = shake;
  const identity: AgentIdentity = {
    name: welcome.agent.name || fallback.name,
    id: welcome.agent.id || fallback.id,
    role: welcome.agent.role || fallback.role,
    replica: welcome.agent.replica ?? 0,
  };
  let attachTracing: Awaited<ReturnType<typeof maybeExportTraces>>;
  let logger: Logger;
  try {
    [attachTracing, logger] = await Promise.all([loads.tracing, makeLogger(identity), loads.span]).then(([t, l]) => [t, l] as const);
  } catch (err) {
    await channel.close(0);
    throw err;
  }
  const init: AgentInit = { ...base, identity, restoredState: welcome.checkpoint, settings: welcome.settings, logger, transport: channel };
  const agent = new Agent(init);
  attachTracing?.(agent);
  shake.attach(agent); // the messages that arrived since welcome, then the live stream
  const mod = await loads.metrics?.catch((err: Error) => err);
  if (mod instanceof Error) agent.logger.warn({ err: mod.message }, 'cannot load @opentelemetry/sdk-metrics: the agent\'s metrics are not sent to the supervisor');
  else if (mod) {
    const shutdown = mod.installMeterProvider({ send: (m) => channel.send(m), intervalMs: metricsIntervalMs, maxLineBytes: welcome.settings.max_line_bytes, logger: agent.logger });
    if (shutdown) agent.beforeClose(shutdown);
    else agent.logger.info('a global meter provider is already registered: the agent\'s metrics are not sent to the supervisor');
  }
  return agent;
}

/**
 * Whether the application registered a global OpenTelemetry meter provider, without
 * loading @opentelemetry/api when nothing has: the API keeps its registrations on
 * globalThis under this symbol, so when the symbol is absent no provider can be
 * registered; when it is present, the API (already loaded) answers.
 */
async function meterProviderRegistered(): Promise<boolean> {
  if ((globalThis as Record<symbol, unknown>)[Symbol.for('opentelemetry.js.api.1')] === undefined) return false;
  const { metrics } = await import('@opentelemetry/api');
  return metrics.getMeterProvider().constructor.name !== 'NoopMeterProvider';
}

function positive(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new AgentSdkError('INVALID_OPTION', `Expected the \`${option}\` option to be a positive number of milliseconds, got \`${String(value)}\` (${typeof value}).`);
  }
  return value;
}
