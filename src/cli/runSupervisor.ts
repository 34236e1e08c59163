import { rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type ConfigOverrides } from '../config/loadConfig.js';
import type { Config } from '../config/schema.js';
import { initTracing } from '../telemetry/tracing.js';
import { createConsoleSink, createSupervisorLogger } from '../telemetry/logger.js';
import { LogStore } from '../telemetry/LogStore.js';
import { registerDiskWriteMetrics } from '../telemetry/metrics/diskWriteMetrics.js';
import { logStoreTaskOutput } from '../telemetry/taskOutput.js';
import { registerLogStoreMetrics } from '../telemetry/metrics/logStoreMetrics.js';
import { metricsOf } from '../telemetry/metrics/metricsOf.js';
import { createServer } from '../server/createServer.js';
import { registerRoutes } from '../server/routes.js';
import { serverSecrets } from '../server/serverSecrets.js';
import { registerLlmReportRoute, registerStatsRoute } from '../server/statsRoute.js';
import { gateUntilReady } from '../server/startingGate.js';
import { DiskFullError, isDiskFull } from '../store/DiskFullError.js';
import { DiskWatch } from '../store/DiskWatch.js';
import { registerTaskRoutes } from '../server/taskRoutes.js';
import { registerUiRoutes } from '../server/ui/uiRoutes.js';
import { uiSnapshot } from '../server/ui/uiSnapshot.js';
import { UiSessions } from '../server/ui/UiSessions.js';
import { registerAgentControlRoutes } from '../server/agentControlRoutes.js';
import { registerReloadRoute, reloadFrom, type ConfigSource } from '../server/reloadRoute.js';
import { StateDir, writeAtomic, type Endpoint } from '../supervisor/StateDir.js';
import { Supervisor } from '../supervisor/Supervisor.js';
import { SupervisorLock } from '../supervisor/SupervisorLock.js';
import { VERSION } from '../version.js';
import { keepRunningOnBrokenPipe } from './brokenPipe.js';
import { adoptDaemonOutput, DAEMON_STREAM } from './daemonOutput.js';
import { extendSupervisor } from './extensions.js';
import { listenError } from './listenError.js';
import { resolvePgUrl } from './queueBackend.js';

/**
 * Runs the supervisor in the foreground until SIGINT/SIGTERM or `background stop`.
 * Resolves with the process exit code. `daemonOut` is set in the daemon `start`
 * spawned: the file its stdout and stderr go to, left once the supervisor is ready
 * (see adoptDaemonOutput).
 * `configFile` and `overrides` say how `config` was loaded: a reload (`background
 * reload`, POST /api/v1/reload, SIGHUP) loads the file again the same way.
 * @throws AlreadyRunningError when another supervisor holds the state directory.
 * @throws TokenFileError or ConfigError when a token or the /metrics password file is unusable.
 */
export async function runSupervisor(config: Readonly<Config>, opts: { console: boolean; daemonOut?: string | undefined; configFile?: string | undefined; overrides?: ConfigOverrides | undefined }): Promise<number> {
  const bg = config.background;
  // A bad PostgreSQL URL setting is a config error (exit 2), before anything is created or locked.
  const pgUrl = bg.queue.backend === 'postgres' ? resolvePgUrl(bg.queue) : undefined;
  if (opts.console) keepRunningOnBrokenPipe(); // a closed console must not end the supervision
  const dir = new StateDir(bg.state_dir);
  dir.ensure();
  // Before anything starts: a bad token or password file is a start-up error (exit 2).
  const secrets = serverSecrets(dir, bg.server);
  const lock = new SupervisorLock(dir.lockFile);
  lock.acquire();

  // A full disk: stores report refused writes here; it probes until there is room again.
  const disk = new DiskWatch(dir.root);
  const logStore = new LogStore(dir.logDir, bg.logging, bg.agents.length + (opts.daemonOut ? 2 : 1), {
    onWriteError: (err, name) => {
      const e = DiskFullError.from(err, dir.logDir, `write the ${name} log`);
      if (e) disk.report('logs', e);
    },
  });
  disk.on('recovered', () => logStore.reopen());
  const con = opts.console ? createConsoleSink() : undefined;
  process.stderr.on('error', () => undefined);
  const log = createSupervisorLogger({ level: bg.logging.level, store: logStore, console: con });
  const tracing = await initTracing('agentic-supervisor');

  const sup = new Supervisor(config, { stateDir: dir, logger: log, logStore, tracer: tracing.tracer, disk, taskOutput: logStoreTaskOutput(dir.logDir), pgUrl });
  const uiSessions = new UiSessions();
  const app = createServer({ bodyLimit: bg.server.body_limit_bytes, ...secrets, uiSessions, logger: log });
  gateUntilReady(app, () => sup.ready);

  let agentsStarted = false;
  let restoreStdio = () => {};
  let shuttingDown: Promise<number> | undefined;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => { resolveExit = r; });
  const shutdown = (reason: string, code = 0): Promise<number> => {
    shuttingDown ??= (async () => {
      log.info({ reason }, 'shutting down');
      await app.close().catch(() => undefined);
      // Never started: nothing to stop, and stop() would overwrite the pid file a
      // crashed predecessor left (its agents are terminated by the next start).
      if (agentsStarted) await sup.stop(reason);
      await ext.close();
      await tracing.shutdown();
      rmSync(dir.endpointFile, { force: true });
      log.info('supervisor stopped');
      await new Promise((r) => log.flush(() => r(undefined)));
      await logStore.close();
      restoreStdio();
      lock.release();
      resolveExit(code);
      return code;
    })();
    return shuttingDown;
  };

  registerRoutes(app, { sup, version: VERSION, onShutdown: () => void shutdown('stop requested through the API') });
  registerStatsRoute(app, sup);
  registerLlmReportRoute(app, (since, until, stories) => sup.llmReport(since, until, stories));
  registerTaskRoutes(app, sup);
  registerAgentControlRoutes(app, sup);
  const source: ConfigSource = { file: opts.configFile && path.resolve(opts.configFile), load: (f) => loadConfig(f, opts.overrides) };
  registerReloadRoute(app, sup, source);
  const ext = await extendSupervisor({ sup, app, config, dir, log, logStore });
  registerUiRoutes(app, { sessions: uiSessions, snapshot: () => uiSnapshot(sup, VERSION), onError: (err) => log.error({ err: err.message }, 'web dashboard snapshot failed') });
  const metrics = metricsOf(sup);
  if (metrics) {
    registerLogStoreMetrics(metrics.registry, logStore, () => [...sup.bg.agents.map((a) => a.name), 'supervisor', ...(opts.daemonOut ? [DAEMON_STREAM] : [])]);
    registerDiskWriteMetrics(metrics.registry, disk);
  }

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
  // SIGHUP reloads the config file (as `background reload` does), like Prometheus and nginx; it never stops the supervisor.
  process.on('SIGHUP', () => {
    if (shuttingDown || !sup.ready) {
      log.warn('received SIGHUP while starting or stopping: no reload (send it again once the supervisor runs)');
      return;
    }
    log.info({ file: source.file }, `received SIGHUP: reloading ${source.file ?? 'the config'}`);
    reloadFrom(sup, source).then((out) => {
      if (!out.ok) log.error({ error: out.body.error, problems: out.body.problems, keys: out.body.keys }, `SIGHUP: the config was not reloaded: ${out.body.reason}`);
    }, (err: Error) => log.error({ err: err.message, stack: err.stack }, `SIGHUP: the reload failed: ${err.message}`));
  });
  process.on('uncaughtException', (err) => {
    // A write the disk refused where nobody expected it: the supervisor degrades
    // (see docs/operations.md, "Disk full") rather than stopping its agents.
    if (isDiskFull(err)) {
      const first = disk.state.kind === 'ok';
      disk.report('other', DiskFullError.from(err, dir.root, 'write') as DiskFullError);
      if (first) log.error({ err: err.message, stack: err.stack }, 'a write the disk refused was not handled where it happened; going on');
      return;
    }
    log.fatal({ err: err.message, stack: err.stack }, 'uncaught exception: stopping agents');
    void shutdown('uncaught exception', 1);
  });

  try {
    // The port first: when it cannot be bound, no agent has been started.
    await app.listen({ host: bg.server.host, port: bg.server.port });
  } catch (err) {
    const clear = listenError(err, bg.server.host, bg.server.port);
    log.fatal({ err: (err as Error).message }, `could not start: ${clear?.message ?? (err as Error).message}`);
    await shutdown('start failed', clear?.exitCode ?? 1);
    throw clear ?? err;
  }
  try {
    agentsStarted = true;
    await sup.start();
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
  if (opts.daemonOut) restoreStdio = adoptDaemonOutput(logStore, opts.daemonOut, con);
  return exited;
}
