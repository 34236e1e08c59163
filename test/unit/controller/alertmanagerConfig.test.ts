import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../src/config/loadConfig.js';
import { buildAlertmanagerConfig } from '../../../src/controller/alertmanagerConfig.js';
import { supervisorWebhookUrl } from '../../../src/controller/renderAlerting.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const alertsOf = (alerts: Obj) => parseConfig({ background: { monitoring: { alerts } } }).background.monitoring.alerts;
const build = (alerts: Obj, extra: Obj = {}): Obj => parse(buildAlertmanagerConfig({ alerts: alertsOf(alerts), controllerUrl: 'http://127.0.0.1:9464/api/v1/alerts', credentialsFile: 'webhook.token', source: 'test.yaml', ...extra }));
const EMAIL = { enabled: true, recipients: ['ops@example.com', 'dev@example.com'], from: 'sup@example.com', smtp: { host: 'mail.example.com', port: 587, username: 'agentic', password_file: '/etc/agentic/smtp.password' } };

describe('the generated alertmanager.yml', () => {
  it('groups by alertname, agent and instance, and sends action="restart" to the controller with its bearer token file', () => {
    const am = build({});
    expect(am.route.group_by).toEqual(['alertname', 'agent', 'instance']);
    const restart = am.route.routes.find((r: Obj) => r.receiver === 'recovery-controller');
    expect(restart).toMatchObject({ matchers: ['action="restart"'], continue: true });
    const ctl = am.receivers.find((r: Obj) => r.name === 'recovery-controller').webhook_configs[0];
    expect(ctl).toMatchObject({ url: 'http://127.0.0.1:9464/api/v1/alerts', send_resolved: true, http_config: { authorization: { type: 'Bearer', credentials_file: 'webhook.token' } } });
    expect(ctl.max_alerts).toBeGreaterThan(0);
    expect(JSON.stringify(am)).not.toMatch(/url_file|"timeout"/); // Alertmanager 0.25 knows neither on webhooks
  });

  it('sends the Watchdog to the dead-man receiver first, and everything unmatched to the null receiver', () => {
    const am = build({}, { deadmanUrl: 'https://hc-ping.com/abc' });
    expect(am.route.receiver).toBe('null');
    expect(am.route.routes[0]).toMatchObject({ receiver: 'deadman', matchers: ['alertname="Watchdog"'], repeat_interval: '1m' });
    expect(am.receivers.find((r: Obj) => r.name === 'deadman').webhook_configs[0].url).toBe('https://hc-ping.com/abc');
    expect(am.receivers.find((r: Obj) => r.name === 'null')).toEqual({ name: 'null' });
  });

  it('has no people receiver when neither email nor webhook is enabled', () => {
    const am = build({ email: { enabled: false, recipients: ['x@example.com'] }, webhook: { enabled: false, url: 'https://example.com/hook' } });
    expect(am.receivers.map((r: Obj) => r.name)).toEqual(['null', 'deadman', 'recovery-controller']);
    expect(am.global.smtp_smarthost).toBeUndefined();
  });

  it('sends critical and page alerts to email with templates, using the config\'s SMTP settings and password file', () => {
    const am = build({ email: EMAIL });
    expect(am.global).toMatchObject({ smtp_from: 'sup@example.com', smtp_smarthost: 'mail.example.com:587', smtp_require_tls: true, smtp_auth_username: 'agentic', smtp_auth_password_file: '/etc/agentic/smtp.password' });
    expect(am.route.routes.filter((r: Obj) => r.receiver === 'people').map((r: Obj) => r.matchers)).toEqual([['severity="critical"'], ['action="page"']]);
    const mail = am.receivers.find((r: Obj) => r.name === 'people').email_configs[0];
    expect(mail).toMatchObject({ to: 'ops@example.com, dev@example.com', send_resolved: true, headers: { Subject: '{{ template "agentic.subject" . }}' }, html: '{{ template "agentic.html" . }}' });
    expect(am.templates).toEqual(['templates/agentic.tmpl']);
  });

  it('does not require STARTTLS from a local relay without credentials', () => {
    expect(build({ email: { ...EMAIL, smtp: { host: '127.0.0.1', port: 2525 } } }).global.smtp_require_tls).toBe(false);
  });

  it('uses a generic webhook for an ordinary URL and Slack (URL kept in a file) for a Slack one', () => {
    const generic = build({ webhook: { enabled: true, url: 'https://ops.example.com/hook' } }).receivers.find((r: Obj) => r.name === 'people');
    expect(generic.webhook_configs[0]).toMatchObject({ url: 'https://ops.example.com/hook', send_resolved: true });
    const slack = build({ webhook: { enabled: true, url: 'https://hooks.slack.com/services/T/B/x' } }, { slackUrlFile: 'slack.url' });
    const people = slack.receivers.find((r: Obj) => r.name === 'people');
    expect(people.slack_configs[0]).toMatchObject({ api_url_file: 'slack.url', title: '{{ template "agentic.subject" . }}' });
    expect(JSON.stringify(slack)).not.toContain('hooks.slack.com');
  });

  it('inhibits per-agent and task alerts of a down supervisor, and the crash loop behind an open breaker', () => {
    const rules = build({}).inhibit_rules;
    expect(rules).toContainEqual({ source_matchers: ['alertname="SupervisorDown"'], target_matchers: ['agent=~".+"'], equal: ['instance'] });
    expect(rules).toContainEqual({ source_matchers: ['alertname="SupervisorDown"'], target_matchers: ['alertname=~"TaskQueueBacklogGrowing|TaskDeadLettered"'], equal: ['instance'] });
    expect(rules).toContainEqual({ source_matchers: ['alertname="AgentCircuitOpen"'], target_matchers: ['alertname=~"AgentCrashLooping|AgentDown"'], equal: ['instance', 'agent', 'replica'] });
    expect(rules).toContainEqual({ source_matchers: ['alertname="LLMAPIRateLimited"'], target_matchers: ['alertname="LLMRateLimitStorm"'], equal: ['instance'] });
  });

  it('derives the controller URL from background.server, mapping a wildcard bind to loopback', () => {
    expect(supervisorWebhookUrl({ host: '0.0.0.0', port: 9464 })).toBe('http://127.0.0.1:9464/api/v1/alerts');
    expect(supervisorWebhookUrl({ host: '::', port: 9464 })).toBe('http://[::1]:9464/api/v1/alerts');
    expect(() => supervisorWebhookUrl({ host: '127.0.0.1', port: 0 })).toThrow(/--controller-url/);
  });
});
