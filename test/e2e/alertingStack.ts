import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import { waitFor } from '../helpers/harness.js';

/** A free loopback TCP port (asked from the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Daemon {
  proc: ChildProcess;
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts a real binary (no skip when missing) and waits until `readyPath` answers 200. */
async function daemon(bin: string, args: string[], url: string, readyPath: string): Promise<Daemon> {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let spawnError: Error | undefined;
  proc.on('error', (e) => { spawnError = e; });
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  await waitFor(`${bin} to be ready`, async () => {
    if (spawnError) throw new Error(`${bin} could not start (${(spawnError as NodeJS.ErrnoException).code}): install it with apt-get; this test does not skip`);
    if (proc.exitCode !== null) throw new Error(`${bin} exited with ${proc.exitCode}: ${out.slice(-2000)}`);
    return (await fetch(`${url}${readyPath}`)).ok;
  }, 30_000, 200);
  return {
    proc, url, output: () => out,
    stop: () => new Promise((r) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return r();
      proc.once('exit', () => r());
      proc.kill('SIGTERM');
    }),
  };
}

/** Prometheus 2.42 on loopback: 1 s scrape and evaluation of `rules`, alerting to `alertmanager`. */
export async function startPrometheus(dir: string, opts: { target: string; alertmanager: string; rules: string[] }): Promise<Daemon> {
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
    rule_files: opts.rules,
    alerting: { alertmanagers: [{ static_configs: [{ targets: [opts.alertmanager] }] }] },
    scrape_configs: [{ job_name: 'agentic-supervisor', static_configs: [{ targets: [opts.target], labels: { host: 'e2e' } }] }],
  };
  writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  return daemon('prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--rules.alert.resend-delay=1s', '--log.level=warn',
  ], `http://127.0.0.1:${port}`, '/-/ready');
}

/** Alertmanager 0.25 on loopback with clustering off, reading `configFile`. */
export async function startAlertmanager(dir: string, configFile: string): Promise<Daemon> {
  mkdirSync(path.join(dir, 'am-data'), { recursive: true });
  const port = await freePort();
  return daemon('prometheus-alertmanager', [
    `--config.file=${configFile}`, `--storage.path=${path.join(dir, 'am-data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn',
  ], `http://127.0.0.1:${port}`, '/-/ready');
}
