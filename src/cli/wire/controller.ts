import { controllerSettings, ControllerSettingsError } from '../../controller/controllerSettings.js';
import { DecisionStore, openControllerDb } from '../../controller/DecisionStore.js';
import { InProcessPort } from '../../controller/InProcessPort.js';
import { InstanceIdentity } from '../../controller/instanceIdentity.js';
import { RecoveryController } from '../../controller/RecoveryController.js';
import { RestartRateLimiter } from '../../controller/RestartRateLimiter.js';
import { registerWebhookRoutes } from '../../controller/webhookRoutes.js';
import { metricsOf } from '../../telemetry/metrics/metricsOf.js';
import { CliError, EXIT } from '../CliError.js';
import type { Wiring } from '../extensions.js';

/** How long shutdown waits for restart requests still in flight (ms). */
const CLOSE_GRACE_MS = 2000;

/**
 * The recovery controller inside the supervisor: `POST /api/v1/alerts` (the
 * Alertmanager webhook, token in `webhook.token`) restarts replicas in-process;
 * `GET /api/v1/alerts/decisions` (control-API token) lists its decisions. Its
 * dedupe claims, decisions, queued alerts and per-replica cooldowns live in their
 * own tables of the state database.
 */
export const wireController: Wiring = async ({ sup, app, dir, log }) => {
  let settings;
  try {
    settings = controllerSettings();
  } catch (err) {
    if (err instanceof ControllerSettingsError) throw new CliError(err.message, EXIT.USAGE);
    throw err;
  }
  const db = openControllerDb(dir.dbFile);
  const metrics = metricsOf(sup)?.controller;
  const store = new DecisionStore(db);
  const controller = new RecoveryController({
    store,
    limiter: new RestartRateLimiter({ maxPerMinute: settings.maxRestartsPerMinute, targetCooldownSeconds: settings.targetCooldownSeconds, ledger: store.cooldowns }),
    port: new InProcessPort(sup, new InstanceIdentity(() => {
      const a = app.server.address();
      return a && typeof a === 'object' ? a.port : undefined;
    }, settings.instances)),
    log,
    metrics,
  });
  registerWebhookRoutes(app, { controller, metrics, log });
  // Alerts accepted before a crash or stop are decided once the agents run (listen comes after
  // sup.start()); from the server's close on (before the agents stop) they wait for the next start.
  // The port is bound before the agents start (src/cli/runSupervisor.ts), so wait for them.
  if (sup.ready) controller.resume();
  else sup.once('started', () => controller.resume());
  app.addHook('onClose', async () => controller.stop());
  return async () => {
    controller.stop();
    await Promise.race([controller.idle(), new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref())]);
    db.close();
  };
};
