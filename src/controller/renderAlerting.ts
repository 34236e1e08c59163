import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, overridesFromEnv } from '../config/loadConfig.js';
import { StateDir, writeAtomic } from '../supervisor/StateDir.js';
import { buildAlertmanagerConfig, isSlackUrl } from './alertmanagerConfig.js';
import { ALERT_TEMPLATES, TEMPLATE_FILE } from './alertmanagerTemplates.js';
import { RouteSpecError } from './routeSpecs.js';

export interface RenderOptions {
  /** The project's YAML config: the one source of truth. */
  configFile: string;
  outDir: string;
  /** The recovery controller's URL (a standalone controller); default the supervisor's `background.server` address. */
  controllerUrl?: string | undefined;
  /** Reference this token file as is (relative to outDir, as Alertmanager resolves it) instead of copying the token into outDir. */
  credentialsFile?: string | undefined;
  /** Where the webhook token is copied from; default the supervisor's `<state_dir>/webhook.token` (created when missing). */
  webhookTokenFile?: string | undefined;
  /** A dead-man's-switch URL for the Watchdog. */
  deadmanUrl?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

export interface RenderResult {
  /** Every file written, absolute. */
  files: string[];
  controllerUrl: string;
  credentialsFile: string;
}

/** `http://<host>:<port>/api/v1/alerts` of the supervisor; a wildcard bind address becomes loopback. */
export function supervisorWebhookUrl(server: { host: string; port: number }): string {
  if (server.port === 0) throw new RouteSpecError('background.server.port is 0 (a random port): Alertmanager needs a fixed address, so pass --controller-url');
  const host = server.host === '0.0.0.0' ? '127.0.0.1' : server.host === '::' ? '::1' : server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${server.port}/api/v1/alerts`;
}

function webhookUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new RouteSpecError(`Expected --controller-url to be an http(s) URL such as http://127.0.0.1:9465, got \`${raw}\``);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RouteSpecError(`Expected --controller-url to be an http(s) URL, got \`${raw}\``);
  return u.pathname === '/' || u.pathname === '' ? `${u.origin}/api/v1/alerts` : u.href;
}

/**
 * Writes `alertmanager.yml`, `templates/agentic.tmpl` and the secrets they
 * reference (`webhook.token`, and `slack.url` for a Slack webhook; both 0600) to
 * `outDir`. Give Alertmanager's user read access to those files.
 * @throws ConfigError for a bad config; RouteSpecError for a bad flag or an unreadable token file
 */
export function renderAlerting(opts: RenderOptions): RenderResult {
  const config = loadConfig(opts.configFile, overridesFromEnv(opts.env ?? process.env));
  const bg = config.background;
  const out = path.resolve(opts.outDir);
  mkdirSync(path.join(out, path.dirname(TEMPLATE_FILE)), { recursive: true });
  const files: string[] = [];
  const write = (rel: string, data: string, mode: number) => {
    const file = path.join(out, rel);
    if (mode === 0o600) writeAtomic(file, data, mode);
    else writeFileSync(file, data, { mode });
    files.push(file);
  };

  const controllerUrl = opts.controllerUrl ? webhookUrl(opts.controllerUrl) : supervisorWebhookUrl(bg.server);
  let credentialsFile = opts.credentialsFile;
  if (!credentialsFile) {
    write('webhook.token', `${readWebhookToken(opts.webhookTokenFile, bg.state_dir)}\n`, 0o600);
    credentialsFile = 'webhook.token';
  }
  const hook = bg.monitoring.alerts.webhook;
  let slackUrlFile: string | undefined;
  if (hook.enabled && isSlackUrl(hook.url)) {
    write('slack.url', `${hook.url}\n`, 0o600);
    slackUrlFile = 'slack.url';
  }
  const yml = buildAlertmanagerConfig({ alerts: bg.monitoring.alerts, controllerUrl, credentialsFile, slackUrlFile, deadmanUrl: opts.deadmanUrl, source: path.basename(opts.configFile) });
  write('alertmanager.yml', yml, 0o644);
  write(TEMPLATE_FILE, ALERT_TEMPLATES, 0o644);
  return { files, controllerUrl, credentialsFile };
}

function readWebhookToken(file: string | undefined, stateDir: string): string {
  if (!file) {
    const dir = new StateDir(stateDir);
    dir.ensure();
    return dir.ensureToken(dir.webhookTokenFile);
  }
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return token;
    throw new RouteSpecError(`--webhook-token-file ${file} holds fewer than 16 characters: use the supervisor's webhook.token`);
  } catch (err) {
    if (err instanceof RouteSpecError) throw err;
    throw new RouteSpecError(`Cannot read --webhook-token-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
