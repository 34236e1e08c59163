import { rmSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { initTracing } from '../telemetry/tracing.js';
import { createSupervisorLogger } from '../telemetry/logger.js';
import { LogStore } from '../telemetry/LogStore.js';
import { logStoreTaskOutput } from '../telemetry/taskOutput.js';
import { registerLogStoreMetrics } from '../telemetry/metrics/logStoreMetrics.js';
import { metricsOf } from '../telemetry/metrics/metricsOf.js';
import { createServer } from '../server/createServer.js';
import { registerRoutes } from '../server/routes.js';
import { registerStatsRoute } from '../server/statsRoute.js';
import { registerTaskRoutes } from '../server/taskRoutes.js';
import { StateDir, writeAtomic, type Endpoint } from '../supervisor/StateDir.js';
import { Supervisor } from '../supervisor/Supervisor.js';
import { SupervisorLock } from '../supervisor/SupervisorLock.js';
import { VERSION } from '../version.js';
import { extendSupervisor } from './extensions.js';

/**
 * Runs the supervisor in the foreground until SIGINT/SIGTERM or `background stop`.
 * Resolves with the process exit code.
 * @throws AlreadyRunningError when another supervisor holds the state directory.
 */
export async function runSupervisor(config: Readonly<Config>, opts: { console: boolean }): Promise<number> {
  const bg = config.background;
  const dir = new StateDir(bg.state_dir);
  dir.ensure();
  const lock = new SupervisorLock(dir.lockFile);
  lock.acquire();

  const logStore = new LogStore(dir.logDir, bg.logging, bg.agents.length + 1);
  const log = createSupervisorLogger({ level: bg.logging.level, store: logStore, console: opts.console });
  const tracing = initTracing('agentic-supervisor');
  const apiToken = dir.ensureToken(dir.tokenFile);
  dir.ensureToken(dir.webhookTokenFile);

  const sup = new Supervisor(config, { stateDir: dir, logger: log, logStore, tracer: tracing.tracer, taskOutput: logStoreTaskOutput(dir.logDir) });
  const app = createServer({ bodyLimit: bg.server.body_limit_bytes, apiToken, logger: log, metricsAuth: undefined });

  let shuttingDown: Promise<number> | undefined;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => { resolveExit = r; });
  const shutdown = (reason: string, code = 0): Promise<number> => {
    shuttingDown ??= (async () => {
      log.info({ reason }, 'shutting down');
      await app.close().catch(() => undefined);
      await sup.stop(reason);
      await ext.close();
      await tracing.shutdown();
      rmSync(dir.endpointFile, { force: true });
      log.info('supervisor stopped');
      await new Promise((r) => log.flush(() => r(undefined)));
      await logStore.close();
      lock.release();
      resolveExit(code);
      return code;
    })();
    return shuttingDown;
  };

  registerRoutes(app, { sup, version: VERSION, onShutdown: () => void shutdown('stop requested through the API') });
  registerStatsRoute(app, sup);
  registerTaskRoutes(app, sup);
  const ext = await extendSupervisor({ sup, app, config, dir, log, logStore });
  const metrics = metricsOf(sup);
  if (metrics) registerLogStoreMetrics(metrics.registry, logStore, bg.agents.map((a) => a.name));

  let firstSignalAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // The same Ctrl-C often reaches us twice (from the terminal's process group and
    // from a wrapper such as npm): only a second signal a moment later forces.
    if (shuttingDown && Date.now() - firstSignalAt < 1500) return;
    firstSignalAt ||= Date.now();
    if (shuttingDown) {
      log.warn(`received ${sig} again: killing agents now`);
      for (const { proc } of sup.processes()) proc.signalGroup('SIGKILL');
      lock.release();
      process.exit(130);
    }
    void shutdown(`received ${sig}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', (err) => {
    log.fatal({ err: err.message, stack: err.stack }, 'uncaught exception: stopping agents');
    void shutdown('uncaught exception', 1);
  });

  try {
    await sup.start();
    await app.listen({ host: bg.server.host, port: bg.server.port });
  } catch (err) {
    log.fatal({ err: (err as Error).message }, `could not start: ${(err as Error).message}`);
    await shutdown('start failed', 1);
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : bg.server.port;
  const host = bg.server.host.includes(':') ? `[${bg.server.host}]` : bg.server.host;
  const endpoint: Endpoint = { url: `http://${host}:${port}`, pid: process.pid, started_at: new Date().toISOString(), state_dir: dir.root };
  writeAtomic(dir.endpointFile, JSON.stringify(endpoint, null, 1), 0o600);
  log.info({ url: endpoint.url, state_dir: dir.root, logs: dir.logDir }, `supervisor ready on ${endpoint.url}`);
  return exited;
}
