import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { waitFor } from './harness.js';

export interface PromResult {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown[] };
}

export interface RealPrometheus {
  url: string;
  /** An instant query through the HTTP API (POST, so long expressions fit). */
  query(expr: string): Promise<PromResult>;
  /** Values of `label` on the series matching `match` (what Grafana's label_values() does). */
  labelValues(label: string, match?: string): Promise<string[]>;
  output(): string;
  stop(): Promise<void>;
}

export const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const a = s.address();
    s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no free port'))));
  });
});

/**
 * Debian's real `prometheus` on 127.0.0.1 with a temp data dir and the given
 * config (an object, written as YAML); extra flags such as
 * `--enable-feature=exemplar-storage` go in `flags`. A missing binary is an
 * error that says what to install: e2e tests do not skip.
 */
export async function startPrometheus(config: Record<string, unknown>, flags: string[] = []): Promise<RealPrometheus> {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentic-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let out = '';
  let spawnError: Error | undefined;
  const proc: ChildProcess = spawn('prometheus', [
    `--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn', ...flags,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.on('error', (err) => { spawnError = err; });
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  await waitFor('prometheus to be ready', async () => {
    if (spawnError) throw new Error((spawnError as NodeJS.ErrnoException).code === 'ENOENT' ? 'prometheus is not installed (Debian: apt-get install prometheus): e2e tests do not skip' : spawnError.message);
    if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}: ${out}`);
    return (await fetch(`${url}/-/ready`)).ok;
  }, 30_000).catch((err) => {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    url,
    output: () => out,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query: expr }) });
      return (await res.json()) as PromResult;
    },
    async labelValues(label, match) {
      const qs = match ? `?${new URLSearchParams({ 'match[]': match })}` : '';
      const body = (await (await fetch(`${url}/api/v1/label/${encodeURIComponent(label)}/values${qs}`)).json()) as { status: string; data?: string[]; error?: string };
      if (body.status !== 'success') throw new Error(`label_values(${match ?? ''}, ${label}): ${body.error}`);
      return body.data ?? [];
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
