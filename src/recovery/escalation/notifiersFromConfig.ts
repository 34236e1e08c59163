import { hostname } from 'node:os';
import type { BackgroundConfig } from '../../config/schema.js';
import { ConsoleNotifier } from './ConsoleNotifier.js';
import { EmailNotifier, type SmtpSettings } from './EmailNotifier.js';
import type { AlertLog, Notifier } from './Notifier.js';
import { WebhookNotifier } from './WebhookNotifier.js';

export type AlertsConfig = BackgroundConfig['monitoring']['alerts'];

/** Used when `alerts.email` is enabled without an `smtp` section: a local relay. */
export const DEFAULT_SMTP: SmtpSettings = { host: '127.0.0.1', port: 25, secure: false };

/**
 * Builds the enabled channels from `background.monitoring.alerts`, and logs which
 * ones are on. A channel that is enabled but unusable (no recipients, no URL) is
 * left out with a warning rather than failing the start: alerting must never be
 * the reason a supervisor does not run.
 */
export function notifiersFromConfig(alerts: AlertsConfig, opts: { log: AlertLog; stateDir?: string | undefined; host?: string }): Notifier[] {
  const { log } = opts;
  const host = opts.host ?? hostname();
  const out: Notifier[] = [];
  if (alerts.console.enabled) out.push(new ConsoleNotifier(log, { stateDir: opts.stateDir }));

  const email = alerts.email;
  if (email.enabled && email.recipients.length === 0) {
    log.warn({ channel: 'email' }, 'email alerts are enabled but background.monitoring.alerts.email.recipients is empty: no alert emails will be sent');
  } else if (email.enabled) {
    const smtp: SmtpSettings = email.smtp ?? DEFAULT_SMTP;
    if (!email.smtp) log.info({ channel: 'email', server: `${smtp.host}:${smtp.port}` }, `email alerts go through the local SMTP server ${smtp.host}:${smtp.port} (set background.monitoring.alerts.email.smtp to use another)`);
    out.push(new EmailNotifier({ recipients: email.recipients, from: email.from, smtp, stateDir: opts.stateDir, host, log }));
  }

  const webhook = alerts.webhook;
  if (webhook.enabled && !webhook.url) {
    log.warn({ channel: 'webhook' }, 'webhook alerts are enabled but background.monitoring.alerts.webhook.url is not set: no webhook alerts will be sent');
  } else if (webhook.enabled && webhook.url) {
    out.push(new WebhookNotifier({ url: webhook.url, timeoutMs: webhook.timeout * 1000, retries: webhook.retries, host, log }));
  }
  return out;
}
