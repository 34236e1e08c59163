import { spawn } from 'node:child_process';
import type { ProbeResult } from './Probe.js';

const MAX_OUTPUT = 300;

/**
 * Runs `argv` (no shell) in its own process group; exit code 0 means healthy. A
 * probe that outlives `timeoutMs` is killed with its whole group and fails.
 */
export function execProbe(argv: readonly string[], timeoutMs: number): Promise<ProbeResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd as string, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const keep = (d: Buffer) => { if (output.length < MAX_OUTPUT) output += d.toString('utf8'); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-(child.pid as number), 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutMs);
    timer.unref();
    const tail = () => (output.trim() ? `: ${output.trim().slice(0, MAX_OUTPUT).split('\n').at(-1)}` : '');
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, latencyMs: performance.now() - t0, detail: `could not run ${cmd}: ${err.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const latencyMs = performance.now() - t0;
      if (timedOut) resolve({ ok: false, latencyMs, detail: `timed out after ${timeoutMs / 1000}s` });
      else if (code === 0) resolve({ ok: true, latencyMs, detail: 'exit code 0' });
      else resolve({ ok: false, latencyMs, detail: `${signal ? `killed by ${signal}` : `exit code ${code}`}${tail()}` });
    });
  });
}
