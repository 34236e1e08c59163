import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, runCli, writeConfig } from '../helpers/harness.js';

/** Issue 11, part 5: the daemon's own output is rotated and counted, and repeated warnings are rate-limited. */

const dirBytes = (dir: string) => readdirSync(dir).reduce((sum, f) => sum + (statSync(path.join(dir, f), { throwIfNoEntry: false })?.size ?? 0), 0);
const NOISE = path.join(ROOT, 'test/fixtures/daemonNoise.mjs');
const CHATTY = path.join(ROOT, 'test/fixtures/agents/chatty.mjs');

/** Kills a daemon left by a failed test, and its agents. */
function killDaemon(stateDir: string): void {
  for (const [file, pick] of [['endpoint.json', (j: { pid?: number }) => [j.pid]], ['agents.pid.json', (j: { agents?: { pid: number }[] }) => (j.agents ?? []).map((a) => -a.pid)]] as const) {
    try {
      for (const pid of (pick as (j: unknown) => (number | undefined)[])(JSON.parse(readFileSync(path.join(stateDir, file), 'utf8')))) if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    } catch {
      // no file
    }
  }
}

describe('the daemon\'s logs stay within max_total_size_mb', () => {
  const dirs: { dir: string; stateDir: string }[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) {
      killDaemon(d.stateDir);
      rmSync(d.dir, { recursive: true, force: true });
    }
  });

  it('rotates and counts the daemon\'s own output, and rate-limits a chatty agent\'s protocol warnings', async () => {
    const capMb = 2;
    const cfg = writeConfig({
      logging: { max_file_size_mb: 0.25, max_files: 2, max_total_size_mb: capMb },
      agents: [{ name: 'chatty', command: ['node', CHATTY], env: { CHATTY_TICK_MS: '10', CHATTY_LINES_PER_TICK: '10', CHATTY_JUNK_PER_TICK: '5' } }],
    });
    dirs.push(cfg);
    const logDir = path.join(cfg.stateDir, 'logs');
    const env = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${NOISE}`.trim() };
    const start = await runCli(['background', 'start', '--config', cfg.file], { env });
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    const { url } = JSON.parse(readFileSync(path.join(cfg.stateDir, 'endpoint.json'), 'utf8')) as { url: string };

    let peak = 0;
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      peak = Math.max(peak, dirBytes(logDir));
      await new Promise((r) => setTimeout(r, 200));
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const count = (name: string, agent: string) => Number(new RegExp(`^${name}\\{agent="${agent}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    const protocolErrors = [...metrics.matchAll(/^agentic_protocol_errors_total\{agent="chatty",reason="[a-z_]+"\} (\S+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
    const stop = await runCli(['background', 'stop', '--state-dir', cfg.stateDir]);
    expect(stop.code).toBe(0);

    const files = readdirSync(logDir);
    const written = count('agentic_log_lines_written_total', 'daemon');
    console.log(`daemon logs: folder peaked at ${(peak / 1e6).toFixed(2)} MB (cap ${capMb} MiB); ${written} daemon lines written, ${count('agentic_log_lines_written_total', 'chatty')} chatty lines written; ${protocolErrors} protocol errors; files: ${files.join(' ')}`);
    // the daemon's output went to its own rotated stream, not to daemon.out
    expect(written).toBeGreaterThan(5000);
    expect(files.filter((f) => /^daemon\.\d{8}-\d{6}-\d+\.log$/.test(f)).length).toBeGreaterThan(0);
    expect(statSync(path.join(logDir, 'daemon.out')).size).toBeLessThan(64 * 1024);
    // the noise is in the daemon's log files (the current one may have just been rotated and be empty)
    const daemonLogs = files.filter((f) => /^daemon(\.\d{8}-\d{6}-\d+)?\.log$/.test(f)).map((f) => readFileSync(path.join(logDir, f), 'utf8')).join('');
    expect(daemonLogs).toMatch(/"component":"daemon","stream":"std(out|err)","msg":"noise \d+ n+"/);
    // everything (daemon.out included) within the cap, with one chunk per stream of slack
    expect(peak).toBeLessThanOrEqual((capMb + 0.5) * 1024 * 1024);

    // protocol warnings: the first 5 of each kind, then one "suppressed N" summary (written at stop)
    const sup = files.filter((f) => f.startsWith('supervisor')).flatMap((f) => readFileSync(path.join(logDir, f), 'utf8').split('\n')).filter(Boolean).map((l) => JSON.parse(l) as { msg: string; level: number; suppressed?: number });
    const warned = sup.filter((r) => r.msg.startsWith('malformed protocol line from chatty-0'));
    const summaries = sup.filter((r) => /^suppressed \d+ more malformed protocol lines \((not_json|invalid)\) from chatty in \d+ s/.test(r.msg));
    expect(protocolErrors).toBeGreaterThan(1000);
    expect(warned.length).toBeGreaterThan(0);
    expect(warned.length).toBeLessThanOrEqual(2 * 5); // two kinds (not_json, invalid), 15 s: one window
    expect(warned.every((r) => r.level === 40)).toBe(true);
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    // every one is accounted for: logged or summarized (more arrived between the scrape and the stop)
    expect(warned.length + summaries.reduce((s, r) => s + (r.suppressed ?? 0), 0)).toBeGreaterThanOrEqual(protocolErrors);
  }, 60_000);

  it('still shows a start-up error to `start` (from daemon.out), here a port in use', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const cfg = writeConfig({ server: { port }, agents: [{ name: 'idle', command: ['node', '-e', 'setInterval(() => {}, 1000)'] }] });
      dirs.push(cfg);
      const r = await runCli(['background', 'start', '--config', cfg.file]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/The supervisor exited during start|Cannot listen on/);
      expect(r.stderr).toMatch(new RegExp(`EADDRINUSE|${port}.*in use|in use.*${port}`));
    } finally {
      blocker.close();
    }
  }, 60_000);
});
