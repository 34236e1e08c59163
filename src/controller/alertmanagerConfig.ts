import path from 'node:path';
import { stringify } from 'yaml';
import type { Config } from '../config/schema.js';
import { TEMPLATE_FILE } from './alertmanagerTemplates.js';
import { MAX_ALERTS_PER_NOTIFICATION, RECEIVER, inhibitRules, routeTree } from './alertmanagerRoutes.js';

type Alerts = Config['background']['monitoring']['alerts'];

export interface AlertmanagerConfigInput {
  alerts: Alerts;
  /** The recovery controller's webhook, e.g. http://127.0.0.1:9464/api/v1/alerts. */
  controllerUrl: string;
  /** `credentials_file` of the controller webhook, as written (relative paths are resolved by Alertmanager against alertmanager.yml's directory). */
  credentialsFile: string;
  /** `api_url_file` of the Slack receiver, when the webhook URL is a Slack one. */
  slackUrlFile?: string | undefined;
  /** A dead-man's-switch service that expects the Watchdog (e.g. a healthchecks.io ping URL); none → a receiver without integrations. */
  deadmanUrl?: string | undefined;
  /** Name of the source config, for the header. */
  source: string;
}

/** Whether the human webhook is Slack's incoming webhook (sent through slack_configs, URL kept in a file). */
export const isSlackUrl = (url: string | undefined): boolean => {
  try {
    return url !== undefined && new URL(url).hostname === 'hooks.slack.com';
  } catch {
    return false;
  }
};

const header = (source: string) => `# Alertmanager 0.25 configuration for the agentic supervisor.
# Generated from ${source} (background.monitoring.alerts and background.server) by
#   agentic-scrum-setup background alerting render --config <file> --out <dir>
# Do not edit: change the YAML config and render again. docs/alerting.md explains every part.
#
# Alertmanager 0.25 constraints this file is designed around:
#  - webhook_configs have no url_file: URLs here are not secret. The recovery
#    controller authenticates with a bearer token read from credentials_file.
#  - webhook_configs have no timeout: a notification may take until the group's
#    context ends (group_interval, at least 10 s). The controller answers within
#    milliseconds and restarts in the background, so no timeout is needed. Alertmanager
#    retries 5xx and network errors with backoff until then, and gives up on 4xx.
#  - background.monitoring.alerts.webhook.timeout/retries apply to the supervisor's own
#    escalations only; Alertmanager has no such settings.
`;

/**
 * Builds alertmanager.yml from the YAML config: the recovery controller's receiver
 * (action="restart"), people (email and/or webhook or Slack, when enabled) for
 * severity="critical" and action="page", the Watchdog to a dead-man receiver, a
 * null receiver for everything else, and the inhibitions of docs/alerting.md.
 */
export function buildAlertmanagerConfig(input: AlertmanagerConfigInput): string {
  const { email, webhook } = input.alerts;
  const global: Record<string, unknown> = { resolve_timeout: '5m' };
  const people: Record<string, unknown> = { name: RECEIVER.people };
  if (email.enabled && email.recipients.length) {
    const smtp = email.smtp ?? { host: '127.0.0.1', port: 25, secure: false };
    global.smtp_from = email.from;
    global.smtp_smarthost = `${smtp.host.includes(':') ? `[${smtp.host}]` : smtp.host}:${smtp.port}`;
    // Credentials never travel in clear: STARTTLS is required when there are any.
    global.smtp_require_tls = smtp.secure || Boolean(smtp.username);
    if (smtp.username) global.smtp_auth_username = smtp.username;
    if (smtp.password_file) global.smtp_auth_password_file = path.resolve(smtp.password_file);
    people.email_configs = [{
      to: email.recipients.join(', '),
      send_resolved: true,
      headers: { Subject: '{{ template "agentic.subject" . }}' },
      html: '{{ template "agentic.html" . }}',
      text: '{{ template "agentic.text" . }}',
    }];
  }
  if (webhook.enabled && webhook.url) {
    if (isSlackUrl(webhook.url) && input.slackUrlFile) {
      people.slack_configs = [{ api_url_file: input.slackUrlFile, send_resolved: true, title: '{{ template "agentic.subject" . }}', text: '{{ template "agentic.text" . }}' }];
    } else {
      people.webhook_configs = [{ url: webhook.url, send_resolved: true, max_alerts: MAX_ALERTS_PER_NOTIFICATION }];
    }
  }
  const hasPeople = Object.keys(people).length > 1;
  const receivers = [
    { name: RECEIVER.none },
    input.deadmanUrl ? { name: RECEIVER.deadman, webhook_configs: [{ url: input.deadmanUrl, send_resolved: false }] } : { name: RECEIVER.deadman },
    {
      name: RECEIVER.controller,
      webhook_configs: [{
        url: input.controllerUrl,
        send_resolved: true,
        max_alerts: MAX_ALERTS_PER_NOTIFICATION,
        http_config: { authorization: { type: 'Bearer', credentials_file: input.credentialsFile } },
      }],
    },
    ...(hasPeople ? [people] : []),
  ];
  const doc = { global, templates: [TEMPLATE_FILE], route: routeTree(hasPeople), inhibit_rules: inhibitRules(), receivers };
  return `${header(input.source)}\n${stringify(doc, { lineWidth: 0 })}`;
}
