import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createServer } from '../server/createServer.js';
import { routeAuth } from '../server/routeAuth.js';
import { StateDir } from '../supervisor/StateDir.js';
import { loadToken } from '../supervisor/tokenFiles.js';
import { MetricsRegistry } from '../telemetry/metrics/MetricsRegistry.js';
import { registerMetricsRoute } from '../telemetry/metrics/metricsRoute.js';
import { VERSION } from '../version.js';
import type { ControllerSettings } from './controllerSettings.js';
import { DecisionStore, openControllerDb } from './DecisionStore.js';
import { RecoveryController } from './RecoveryController.js';
import { RemoteSupervisors, type SupervisorEndpoint } from './RemoteSupervisors.js';
import { RestartRateLimiter } from './RestartRateLimiter.js';
import { registerWebhookRoutes } from './webhookRoutes.js';

export interface StandaloneControllerOptions {
  host: string;
  port: number;
  supervisors: readonly SupervisorEndpoint[];
  instanceMap: ReadonlyMap<string, string>;
  /** Holds `state.db` (claims, decisions, queued alerts, cooldowns) and, by default, `webhook.token`. */
  stateDir: string;
  /**
   * The token Alertmanager presents; created (0600) when missing, otherwise only
   * read: never rewritten, even when too short (that is an error). Default `<stateDir>/webhook.token`.
   */
  tokenFile?: string | undefined;
  settings: Readonly<ControllerSettings>;
  log: Logger;
}

export interface RunningController {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/**
 * The recovery controller as its own process, in front of several supervisors:
 * `POST /api/v1/alerts` (webhook token), `GET /api/v1/alerts/decisions` (the same
 * token), `GET /metrics` (the controller's metrics) and `GET /healthz`.
 * @throws TokenFileError when the token file holds fewer than 16 characters or cannot be read.
 */
export async function startStandaloneController(opts: StandaloneControllerOptions): Promise<RunningController> {
  const dir = new StateDir(opts.stateDir);
  dir.ensure();
  // A file the user named is only read (or created when missing), never chmod'ed or rewritten.
  const token = opts.tokenFile ? loadToken(opts.tokenFile, { what: '--token-file' }) : dir.ensureToken(dir.webhookTokenFile);
  const port = new RemoteSupervisors({ supervisors: opts.supervisors, instanceMap: opts.instanceMap });
  const db = openControllerDb(dir.dbFile);
  const metrics = new MetricsRegistry({});
  const store = new DecisionStore(db);
  const controller = new RecoveryController({
    store,
    limiter: new RestartRateLimiter({ maxPerMinute: opts.settings.maxRestartsPerMinute, targetCooldownSeconds: opts.settings.targetCooldownSeconds, ledger: store.cooldowns }),
    port,
    log: opts.log,
    metrics: metrics.controller,
  });
  // One token here: the webhook's, also for reading the decisions.
  const app = createServer({ bodyLimit: 1024 * 1024, apiToken: token, webhookToken: token, logger: opts.log });
  registerWebhookRoutes(app, { controller, metrics: metrics.controller, log: opts.log });
  registerMetricsRoute(app, metrics);
  app.get('/healthz', routeAuth('public'), async () => ({ status: 'ok', pid: process.pid, version: VERSION, supervisors: opts.supervisors.map((s) => s.url) }));
  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    db.close();
    metrics.close();
    throw err;
  }
  controller.resume(); // alerts accepted before a crash or stop
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : opts.port;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${bound}`;
  let closed: Promise<void> | undefined;
  return {
    app,
    url,
    close: () => (closed ??= (async () => {
      await app.close();
      controller.stop();
      await Promise.race([controller.idle(), new Promise((r) => setTimeout(r, 2000).unref())]);
      metrics.close();
      db.close();
    })()),
  };
}
