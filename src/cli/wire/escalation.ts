import path from 'node:path';
import { EscalationDispatcher } from '../../recovery/escalation/EscalationDispatcher.js';
import type { Escalation } from '../../recovery/escalation/Notifier.js';
import { notifiersFromConfig } from '../../recovery/escalation/notifiersFromConfig.js';
import type { Wiring } from '../extensions.js';

/** How long shutdown waits for alerts still being delivered (ms). */
const CLOSE_GRACE_MS = 2000;

/**
 * Escalations (restarts exhausted, breaker open) → email, webhook and console,
 * per background.monitoring.alerts. The supervisor has already logged each one
 * at error level with an `alert` field; this layer only delivers it elsewhere,
 * in the background, so a dead SMTP server or webhook never blocks the supervisor.
 */
export const wireEscalation: Wiring = async ({ sup, config, log, dir }) => {
  const notifiers = notifiersFromConfig(config.background.monitoring.alerts, { log, stateDir: path.resolve(dir.root) });
  const dispatcher = new EscalationDispatcher({ notifiers, log });
  const onEscalation = (e: Escalation) => dispatcher.dispatch(e);
  sup.on('escalation', onEscalation);
  return async () => {
    sup.off('escalation', onEscalation);
    await dispatcher.close(CLOSE_GRACE_MS);
  };
};
