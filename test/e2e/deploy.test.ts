import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DAEMON_V8_OPTIONS } from '../../src/cli/daemonNodeArgs.js';
import { DAEMON_ENV, DAEMON_ENV_ADDED } from '../../src/supervisor/daemonEnv.js';
import { arr, at, dockerInstructions, obj, tool, type Obj } from '../helpers/deployFiles.js';
import { CLI, ROOT } from '../helpers/harness.js';

/**
 * The compose stack, the image and the systemd unit, checked with the real tools
 * where this machine has them (docker-compose, promtool, amtool, systemd-analyze)
 * and structurally where not (no Docker engine or hadolint here). The Kubernetes
 * manifests: deploy-kubernetes.test.ts.
 */

const tmp = mkdtempSync(path.join(tmpdir(), 'agentic-deploy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('docker-compose.yml', () => {
  type Compose = { services: Record<string, Obj>; networks: Obj; volumes: Obj };
  let resolved: Compose | undefined;
  /** The resolved file, every profile on (docker-compose config, run once). */
  const config = (): Compose => {
    if (resolved) return resolved;
    const r = tool('docker-compose', ['--profile', 'tracing', 'config'], 'docker-compose');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    resolved = parse(r.stdout) as Compose;
    return resolved;
  };

  it('is valid for docker-compose config', () => {
    const r = tool('docker-compose', ['config', '--quiet'], 'docker-compose');
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });

  it('runs the supervisor, prometheus, alertmanager, grafana and an optional jaeger on one network, ports on 127.0.0.1 only', () => {
    const { services, networks } = config();
    // docker-compose 1.29's config lists every profile's services; the fleet profile's: deploy-fleet.test.ts
    expect(Object.keys(services).sort()).toEqual(['alerting-config', 'alertmanager', 'db-migrate', 'fleet-secrets', 'grafana', 'jaeger', 'postgres', 'prometheus', 'supervisor', 'supervisor-fleet-a', 'supervisor-fleet-b']);
    expect(Object.keys(networks)).toEqual(['agentic']);
    expect(arr(services.jaeger?.profiles)).toEqual(['tracing']);
    for (const [name, s] of Object.entries(services)) {
      expect(Object.keys(obj(s.networks)), name).toEqual(['agentic']);
      for (const p of arr(s.ports)) expect(typeof p === 'string' ? p : `${String(obj(p).host_ip)}:`, `${name} publishes ${JSON.stringify(p)}`).toMatch(/^127\.0\.0\.1:/);
      if (['alerting-config', 'fleet-secrets', 'db-migrate'].includes(name)) { expect(s.restart, name).toBe('no'); continue; } // one-shots
      expect(s.restart, name).toBe('unless-stopped');
      expect(at(s, 'healthcheck', 'test'), `${name} has a healthcheck`).toBeDefined();
    }
  });

  it('builds the supervisor from deploy/Dockerfile, keeps state, metrics and grafana in volumes, and mounts the rules and dashboards', () => {
    const { services, volumes } = config();
    expect(at(services.supervisor, 'build', 'dockerfile')).toBe('deploy/Dockerfile');
    expect(Object.keys(volumes).sort()).toEqual(['agentic-state', 'fleet-a-state', 'fleet-b-state', 'fleet-secrets', 'grafana-data', 'pg-data', 'prometheus-data']);
    const mounts = (s: string) => arr(services[s]?.volumes).map(String);
    expect(mounts('supervisor')).toContain('agentic-state:/var/lib/agentic:rw');
    expect(mounts('prometheus')).toContain('prometheus-data:/prometheus:rw');
    expect(mounts('prometheus')).toContain(`${ROOT}/prometheus/rules:/etc/prometheus/rules:ro`);
    expect(mounts('grafana')).toContain(`${ROOT}/grafana/provisioning:/etc/grafana/provisioning:ro`);
    expect(mounts('grafana')).toContain(`${ROOT}/grafana/dashboards:/var/lib/grafana/dashboards:ro`);
    expect(mounts('grafana')).toContain('grafana-data:/var/lib/grafana:rw');
    expect(arr(services.supervisor?.command)).toEqual(['--host', '0.0.0.0', '--port', '9464']);
  });

  it('its Prometheus config is valid and its rules pass promtool, with the compose service names as targets', () => {
    const prom = parse(readFileSync(path.join(ROOT, 'deploy/compose/prometheus.yml'), 'utf8')) as Obj;
    expect(JSON.stringify(prom.scrape_configs)).toContain('supervisor:9464');
    expect(JSON.stringify(prom.alerting)).toContain('alertmanager:9093');
    expect(prom.rule_files).toEqual(['/etc/prometheus/rules/*.yml']);
    const local = path.join(tmp, 'prometheus.yml');
    writeFileSync(local, stringify({ ...prom, rule_files: [path.join(ROOT, 'prometheus/rules/*.yml')] }));
    const r = tool('promtool', ['check', 'config', local], 'prometheus');
    expect(`${r.stdout}${r.stderr}`).toMatch(/SUCCESS: \d+ rule files found/);
    expect(r.status).toBe(0);
  });

  it('renders an Alertmanager config that amtool accepts, routing restarts to the supervisor by its compose name', () => {
    const { services } = config();
    const cmd = arr(services['alerting-config']?.command).map(String);
    const out = cmd[cmd.indexOf('--out') + 1] as string;
    expect(arr(services.alertmanager?.command)).toContain(`--config.file=${out.replace('/var/lib/agentic', '/agentic-state')}/alertmanager.yml`);
    const args = cmd.map((a) => (a === out ? path.join(tmp, 'am') : a === '/app/examples/demo.yaml' ? path.join(ROOT, 'examples/demo.yaml') : a));
    const render = tool(process.execPath, [CLI, ...args], 'nodejs');
    expect(render.stderr).toBe('');
    expect(render.status).toBe(0);
    const am = readFileSync(path.join(tmp, 'am/alertmanager.yml'), 'utf8');
    expect(am).toContain('url: http://supervisor:9464/api/v1/alerts');
    expect(am).toContain('credentials_file: /agentic-state/webhook.token');
    const check = tool('amtool', ['check-config', path.join(tmp, 'am/alertmanager.yml')], 'prometheus-alertmanager');
    expect(check.stdout).toContain('SUCCESS');
    expect(check.status).toBe(0);
  });
});

describe('deploy/Dockerfile (structural: hadolint is neither in Debian 12 nor on npm)', () => {
  const text = readFileSync(path.join(ROOT, 'deploy/Dockerfile'), 'utf8');
  const ins = dockerInstructions(text);
  const last = Math.max(...ins.map((i) => i.stage));
  const final = ins.filter((i) => i.stage === last);

  it('is multi-stage with named stages, pinned base images and no "latest"', () => {
    const froms = ins.filter((i) => i.op === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(3);
    for (const f of froms) expect(f.args).toMatch(/^\S+ AS [a-z]+$/);
    expect(text).toMatch(/ARG NODE_IMAGE=node:20-[a-z]+-slim/);
    expect(text).not.toMatch(/:latest\b/);
    for (const c of ins.filter((i) => i.op === 'COPY' && i.args.includes('--from='))) {
      const stage = /--from=(\S+)/.exec(c.args)?.[1];
      expect(froms.some((f) => f.args.endsWith(` AS ${stage}`)), `COPY --from=${stage}`).toBe(true);
    }
  });

  it('installs production dependencies only into the final image and runs as a non-root user', () => {
    const depsStage = ins.find((i) => i.op === 'RUN' && /npm ci --omit=dev/.test(i.args))?.stage;
    expect(depsStage).toBeDefined();
    expect(final.some((i) => i.op === 'COPY' && i.args.includes('--from=deps') && i.args.includes('node_modules'))).toBe(true);
    expect(final.some((i) => i.op === 'RUN' && /npm (ci|install)(?!.*--omit=dev)/.test(i.args))).toBe(false);
    const users = final.filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)?.args).not.toMatch(/^(root|0)(:|$)/);
    const userAt = final.indexOf(users.at(-1) as (typeof final)[number]);
    expect(final.findIndex((i) => i.op === 'CMD')).toBeGreaterThan(userAt);
  });

  it('has a HEALTHCHECK against /healthz, exec-form ENTRYPOINT and CMD, and binds 0.0.0.0 in the container', () => {
    const hc = final.find((i) => i.op === 'HEALTHCHECK');
    expect(hc?.args).toMatch(/CMD \[.*\/healthz/);
    for (const op of ['ENTRYPOINT', 'CMD']) expect(final.find((i) => i.op === op)?.args, op).toMatch(/^\[.*\]$/);
    expect(final.find((i) => i.op === 'CMD')?.args).toContain('"--host", "0.0.0.0"');
    // The daemon's V8 options, the same as `background start` gives them.
    expect(final.find((i) => i.op === 'ENTRYPOINT')?.args).toContain(`"node", ${DAEMON_V8_OPTIONS.map((o) => `"${o}"`).join(', ')}, "/app/dist/cli/main.js"`);
    // …and its environment, marked as the launcher's so that the agents do not inherit it.
    const env = final.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
    for (const [k, v] of Object.entries(DAEMON_ENV)) expect(env).toContain(`${k}=${v}`);
    expect(env).toContain(`${DAEMON_ENV_ADDED}=${Object.keys(DAEMON_ENV).join(',')}`);
    expect(text).toMatch(/--host 0\.0\.0\.0: inside the container/); // why it is safe is written down
  });

  it('copies into the build stage every file `npm run build` reads', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const build = ins.find((i) => i.op === 'RUN' && i.args === 'npm run build');
    expect(build).toBeDefined();
    const copied = ins.filter((i) => i.stage === build!.stage && i.op === 'COPY' && !i.args.includes('--from=')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const read = [...pkg.scripts.build!.matchAll(/(?:^|\s)((?:scripts|src)\/\S+|tsconfig[\w.]*\.json)/g)].map((m) => m[1]!);
    expect(read).toEqual(expect.arrayContaining(['tsconfig.build.json', 'src/ui/tsconfig.json', 'scripts/buildUi.mjs']));
    for (const f of read) expect(copied.some((c) => f === c || f.startsWith(`${c.replace(/\/$/, '')}/`)), `${f} is not copied before \`npm run build\``).toBe(true);
  });

  it('cleans apt lists and skips recommends in every apt-get install (hadolint DL3009, DL3015)', () => {
    for (const r of ins.filter((i) => i.op === 'RUN' && i.args.includes('apt-get install'))) {
      expect(r.args).toContain('--no-install-recommends');
      expect(r.args).toContain('rm -rf /var/lib/apt/lists/*');
      expect(r.args).toMatch(/apt-get install -y/);
    }
    for (const w of ins.filter((i) => i.op === 'WORKDIR')) expect(w.args).toMatch(/^\//);
    expect(ins.some((i) => /\bsudo\b/.test(i.args))).toBe(false);
  });
});

describe('deploy/systemd/agentic-supervisor.service', () => {
  const unit = path.join(ROOT, 'deploy/systemd/agentic-supervisor.service');
  const text = readFileSync(unit, 'utf8');

  it('passes systemd-analyze verify with nothing to report', () => {
    const r = tool('systemd-analyze', ['verify', unit], 'systemd');
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });

  it('restarts on failure but not on a config error, stops agents gracefully, and is hardened (exposure at most 3.0)', () => {
    expect(text).toMatch(/^Restart=on-failure$/m);
    expect(text).toMatch(/^RestartPreventExitStatus=2$/m);
    expect(text).toMatch(/^KillMode=mixed$/m);
    expect(text).toMatch(/^ExecStart=.* background start --foreground --config \S+$/m);
    expect(text).toMatch(new RegExp(`^ExecStart=node ${DAEMON_V8_OPTIONS.join(' ')} /`, 'm')); // the daemon's V8 options, as `background start` gives them
    const env = text.split('\n').filter((l) => l.startsWith('Environment=')).join(' '); // …and its environment
    for (const [k, v] of Object.entries(DAEMON_ENV)) expect(env).toContain(`${k}=${v}`);
    expect(env).toContain(`${DAEMON_ENV_ADDED}=${Object.keys(DAEMON_ENV).join(',')}`);
    expect(text).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m); // systemctl reload: the supervisor reloads its config on SIGHUP (config-reload.test.ts)
    expect(text).not.toMatch(/^MemoryDenyWriteExecute=yes/m); // V8's JIT
    const r = tool('systemd-analyze', ['security', '--offline=true', unit], 'systemd');
    const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(`${r.stdout}${r.stderr}`)?.[1]);
    expect(score).toBeLessThanOrEqual(3);
  });
});
