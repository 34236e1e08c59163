import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ROOT, runCli } from '../helpers/harness.js';

/**
 * `background alerting render` against Debian's real amtool (Alertmanager 0.25):
 * the output passes `amtool check-config`, its templates execute, and the
 * committed example is exactly what the documented command renders today.
 * A missing amtool is a failure, never a skip.
 */

/** The command docs/alerting.md gives for regenerating the committed example. */
const EXAMPLE_ARGS = ['background', 'alerting', 'render', '--config', 'examples/demo.yaml', '--credentials-file', '../.agentic/demo/webhook.token'];

function amtool(args: string[], cwd = ROOT): { status: number | null; output: string } {
  const r = spawnSync('amtool', args, { cwd, encoding: 'utf8', timeout: 30_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? 'amtool is not on PATH: install it (Debian: apt-get install prometheus-alertmanager) — this test does not skip' : `amtool could not run: ${r.error.message}`);
  }
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const tmp = mkdtempSync(path.join(tmpdir(), 'agentic-am-render-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('background alerting render', () => {
  it('renders the demo config into a config that amtool check-config accepts, equal to the committed example', async () => {
    const out = path.join(tmp, 'demo');
    const r = await runCli([...EXAMPLE_ARGS, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('amtool check-config');
    const check = amtool(['check-config', path.join(out, 'alertmanager.yml')]);
    expect(check.output).toMatch(/SUCCESS/);
    expect(check.output).toMatch(/1 templates/);
    expect(check.status, check.output).toBe(0);
    for (const f of ['alertmanager.yml', 'templates/agentic.tmpl']) {
      expect(readFileSync(path.join(out, f), 'utf8'), `prometheus/${f} is stale: regenerate it as docs/alerting.md says`).toBe(readFileSync(path.join(ROOT, 'prometheus', f), 'utf8'));
    }
  });

  it('passes amtool check-config on the committed example too', () => {
    const check = amtool(['check-config', 'prometheus/alertmanager.yml']);
    expect(check.status, check.output).toBe(0);
  });

  it('renders email, Slack and a standalone controller, copying the secrets into 0600 files', async () => {
    const token = path.join(tmp, 'controller.token');
    writeFileSync(token, 'c'.repeat(64), { mode: 0o600 });
    const config = path.join(tmp, 'full.yaml');
    writeFileSync(config, stringify({ background: { state_dir: path.join(tmp, 'state'), monitoring: { alerts: {
      email: { enabled: true, recipients: ['ops@example.com'], smtp: { host: '127.0.0.1', port: 2525 } },
      webhook: { enabled: true, url: 'https://hooks.slack.com/services/T000/B000/XXXX' },
    } } } }));
    const out = path.join(tmp, 'full');
    const r = await runCli(['background', 'alerting', 'render', '--config', config, '--out', out, '--controller-url', 'http://127.0.0.1:9465', '--webhook-token-file', token, '--deadman-url', 'https://hc-ping.example.com/x']);
    expect(r.code, r.stderr).toBe(0);
    const check = amtool(['check-config', path.join(out, 'alertmanager.yml')]);
    expect(check.status, check.output).toBe(0);
    expect(check.output).toMatch(/4 receivers/);
    const yml = readFileSync(path.join(out, 'alertmanager.yml'), 'utf8');
    expect(yml).toContain('url: http://127.0.0.1:9465/api/v1/alerts');
    expect(yml).toContain('credentials_file: webhook.token');
    expect(yml).not.toContain('hooks.slack.com');
    expect(readFileSync(path.join(out, 'webhook.token'), 'utf8').trim()).toBe('c'.repeat(64));
    expect(statSync(path.join(out, 'webhook.token')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(out, 'slack.url')).mode & 0o777).toBe(0o600);
  });

  it('renders templates that execute: subject, text and HTML', () => {
    const r = amtool(['template', 'render', '--template.glob', path.join(ROOT, 'prometheus/templates/*.tmpl'), '--template.text', '{{ template "agentic.subject" . }}|{{ template "agentic.text" . }}|{{ template "agentic.html" . }}']);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('<td><b>Supervisor</b></td><td>foo.bar:1234</td>'); // amtool's sample alert has instance=foo.bar:1234
    expect(r.output).toContain('Runbook');
  });

  it('explains a bad flag or config with exit 2', async () => {
    const bad = await runCli(['background', 'alerting', 'render', '--config', 'examples/demo.yaml', '--out', path.join(tmp, 'x'), '--controller-url', 'ftp://nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--controller-url to be an http\(s\) URL/);
    const missing = await runCli(['background', 'alerting', 'render', '--config', path.join(tmp, 'nope.yaml'), '--out', path.join(tmp, 'y')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/config file not found/);
  });
});
