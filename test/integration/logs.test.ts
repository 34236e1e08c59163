import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/** Bytes in `dir`; a file rotated away between the listing and its stat counts 0 (its new name is listed next time). */
const dirBytes = (dir: string) => readdirSync(dir).reduce((sum, f) => sum + (statSync(path.join(dir, f), { throwIfNoEntry: false })?.size ?? 0), 0);

describe('log aggregation', () => {
  let sup: RunningSupervisor | undefined;
  afterEach(() => { cleanup(sup); sup = undefined; });

  it('keeps the log directory under its limit while an agent spams for 20 s, and the supervisor stays responsive', async () => {
    const limitMb = 3;
    sup = await startSupervisor({
      logging: { max_file_size_mb: 0.5, max_files: 3, max_total_size_mb: limitMb },
      agents: [{ name: 'spam', command: ['node', path.join(ROOT, 'test/fixtures/agents/spam.mjs')], env: { SPAM_SECONDS: '20' } }],
    });
    const logDir = path.join(sup.stateDir, 'logs');
    let maxBytes = 0;
    const latencies: number[] = [];
    const until = Date.now() + 21_000;
    while (Date.now() < until) {
      const t0 = performance.now();
      const r = await fetch(`${sup.url}/healthz`);
      latencies.push(performance.now() - t0);
      expect(r.status).toBe(200);
      maxBytes = Math.max(maxBytes, dirBytes(logDir));
      await new Promise((r2) => setTimeout(r2, 200));
    }
    const files = readdirSync(logDir).filter((f) => f.startsWith('spam'));
    // the store's own account of the flood: lines written and dropped, on /metrics
    const metrics = await (await fetch(`${sup.url}/metrics`)).text();
    const counter = (name: string) => Number(new RegExp(`^${name}\\{agent="spam"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    const written = counter('agentic_log_lines_written_total');
    const dropped = counter('agentic_log_lines_dropped_total');
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)] as number;
    console.log(`spam: log dir peaked at ${(maxBytes / 1e6).toFixed(2)} MB (limit ${limitMb} MiB), ${files.length} spam files, ${written} lines written and ${dropped} dropped, /healthz p50 ${latencies[Math.floor(latencies.length / 2)]?.toFixed(1)} ms p99 ${p99.toFixed(1)} ms over ${latencies.length} probes`);
    expect(metrics).toMatch(/^# TYPE agentic_log_lines_dropped_total counter$/m);
    expect(dropped).toBeGreaterThanOrEqual(0); // present, and a number
    expect(written).toBeGreaterThan(0);
    expect(files.length).toBeGreaterThan(1); // it did rotate
    expect(files.length).toBeLessThanOrEqual(1 + 3);
    // one file of slack: the live file may pass its size before the rotation lands
    expect(maxBytes).toBeLessThanOrEqual((limitMb + 0.5) * 1024 * 1024);
    expect(p99).toBeLessThan(1000);
  }, 60_000);

  it('shows one task\'s whole story across the supervisor and the agent with --correlation-id', async () => {
    sup = await startSupervisor({ agents: [{ name: 'echoer', mode: 'per_task', command: ['node', '-e', 'console.log("working on", process.argv[1]); console.error("a warning")', '{prompt}'] }] });
    const { body } = await sup.api<{ task: { id: string; correlation_id: string } }>('POST', '/api/v1/tasks', { role: 'echoer', title: 't', prompt: 'STORY-LOGS' });
    await sup.api('POST', '/api/v1/tasks', { role: 'echoer', title: 'other', prompt: 'OTHER' });
    await waitFor('completion', async () => (await sup!.api<{ task: { status: string } }>('GET', `/api/v1/tasks/${body.task.id}`)).body.task.status === 'completed');
    const r = await waitFor('log lines', async () => {
      const x = await sup!.cli(['background', 'logs', '--correlation-id', body.task.correlation_id, '--json']);
      return x.stdout.split('\n').filter(Boolean).length >= 4 ? x : undefined;
    });
    expect(r.code).toBe(0);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { component?: string; agent?: string; msg: string; trace_id: string; level: number });
    expect(recs.every((x) => x.trace_id === body.task.correlation_id)).toBe(true);
    expect(recs.some((x) => x.component === 'supervisor' && /submitted/.test(x.msg))).toBe(true);
    expect(recs.some((x) => x.component === 'supervisor' && /completed/.test(x.msg))).toBe(true);
    expect(recs.some((x) => x.agent === 'echoer' && x.msg === 'working on STORY-LOGS')).toBe(true);
    expect(recs.some((x) => x.msg.includes('OTHER'))).toBe(false);
    const warn = await sup.cli(['background', 'logs', 'echoer', '--level', 'warn']);
    expect(warn.stdout).toMatch(/WARN .*a warning/);
    expect(warn.stdout).not.toMatch(/working on/);
    const bad = await sup.cli(['background', 'logs', '--since', 'yesterday-ish']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since: expected a duration/);
  });

  it('follows new lines live with --follow', async () => {
    sup = await startSupervisor({ agents: [{ name: 'echoer', mode: 'per_task', command: ['node', '-e', 'console.log("live", process.argv[1])', '{prompt}'] }] });
    const { spawn } = await import('node:child_process');
    const p = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'background', 'logs', 'echoer', '--follow', '--state-dir', sup.stateDir], { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    try {
      await new Promise((r) => setTimeout(r, 800));
      await sup.api('POST', '/api/v1/tasks', { role: 'echoer', title: 't', prompt: 'FOLLOW-ME' });
      await waitFor('the followed line', () => out.includes('live FOLLOW-ME'));
    } finally {
      p.kill('SIGINT');
    }
  });
});
