import path from 'node:path';
import { EscalationDispatcher } from '../../recovery/escalation/EscalationDispatcher.js';
import type { Escalation } from '../../recovery/escalation/Notifier.js';
import { notifiersFromConfig } from '../../recovery/escalation/notifiersFromConfig.js';
import { totalsCounter } from '../../telemetry/metrics/define.js';
import { metricsOf } from '../../telemetry/metrics/metricsOf.js';
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
  const metrics = metricsOf(sup);
  if (metrics) {
    // Whether the supervisor's own alerts reach people: a failing SMTP server shows here.
    totalsCounter(metrics.registry, 'agentic_escalation_notifications_total', 'Escalation deliveries by channel and result: sent, failed (given up or refused), dropped (never attempted).', ['channel', 'result'], (emit) => {
      for (const [channel, c] of Object.entries(dispatcher.counters())) {
        for (const result of ['sent', 'failed', 'dropped'] as const) emit({ channel, result }, c[result]);
      }
    });
    totalsCounter(metrics.registry, 'agentic_escalations_suppressed_total', 'Escalations not sent again because the same replica and reason was sent within the dedupe window.', [], (emit) => emit({}, dispatcher.suppressed));
  }
  const onEscalation = (e: Escalation) => dispatcher.dispatch(e);
  sup.on('escalation', onEscalation);
  return async () => {
    sup.off('escalation', onEscalation);
    await dispatcher.close(CLOSE_GRACE_MS);
  };
};
