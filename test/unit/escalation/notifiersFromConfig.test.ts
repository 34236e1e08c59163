import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/config/loadConfig.js';
import type { EmailNotifier } from '../../../src/recovery/escalation/EmailNotifier.js';
import type { AlertLog } from '../../../src/recovery/escalation/Notifier.js';
import { notifiersFromConfig, type AlertsConfig } from '../../../src/recovery/escalation/notifiersFromConfig.js';
import { ROOT } from '../../helpers/harness.js';

const recorder = () => {
  const lines: string[] = [];
  const log: AlertLog = { debug: () => undefined, info: (_o, m) => lines.push(`info ${m}`), warn: (_o, m) => lines.push(`warn ${m}`), error: (_o, m) => lines.push(`error ${m}`) };
  return { log, lines };
};
const alertsOf = (alerts: unknown): AlertsConfig => parseConfig({ background: { monitoring: { alerts } } }).background.monitoring.alerts;

describe('notifiersFromConfig', () => {
  it("accepts the seed story's alerts (email without an smtp section) and uses a local SMTP relay", async () => {
    const { log, lines } = recorder();
    const cfg = loadConfig(path.join(ROOT, 'test/fixtures/configs/seed.yaml'));
    const notifiers = notifiersFromConfig(cfg.background.monitoring.alerts, { log });
    expect(notifiers.map((n) => n.channel)).toEqual(['console', 'email', 'webhook']);
    expect((notifiers[1] as EmailNotifier).server).toBe('127.0.0.1:25');
    expect(lines.join('\n')).toContain('email alerts go through the local SMTP server 127.0.0.1:25');
    await Promise.all(notifiers.map((n) => n.close(0)));
  });

  it('uses the configured SMTP server when there is one', () => {
    const { log } = recorder();
    const notifiers = notifiersFromConfig(alertsOf({ console: { enabled: false }, email: { enabled: true, recipients: ['a@example.com'], smtp: { host: 'mail.internal', port: 587 } } }), { log });
    expect(notifiers.map((n) => n.channel)).toEqual(['email']);
    expect((notifiers[0] as EmailNotifier).server).toBe('mail.internal:587');
  });

  it('builds only the console channel by default', () => {
    const { log } = recorder();
    expect(notifiersFromConfig(alertsOf({}), { log }).map((n) => n.channel)).toEqual(['console']);
    expect(notifiersFromConfig(alertsOf({ console: { enabled: false } }), { log })).toEqual([]);
  });

  it('leaves out, with a warning, a channel that is enabled but unusable instead of failing', () => {
    const { log, lines } = recorder();
    const alerts = { ...alertsOf({ console: { enabled: false } }) };
    const broken = { ...alerts, email: { ...alerts.email, enabled: true, recipients: [] }, webhook: { ...alerts.webhook, enabled: true, url: undefined } } as AlertsConfig;
    expect(notifiersFromConfig(broken, { log })).toEqual([]);
    expect(lines).toEqual([
      'warn email alerts are enabled but background.monitoring.alerts.email.recipients is empty: no alert emails will be sent',
      'warn webhook alerts are enabled but background.monitoring.alerts.webhook.url is not set: no webhook alerts will be sent',
    ]);
  });
});
