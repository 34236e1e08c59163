import { describeNetError, type ProbeResult } from './Probe.js';

/**
 * GETs `url` (no redirects followed) and judges the status with `accept`.
 * Default: any answer below 500 means the endpoint is reachable.
 */
export async function httpProbe(url: string, timeoutMs: number, accept: (status: number) => boolean = (s) => s < 500): Promise<ProbeResult> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel().catch(() => undefined);
    const latencyMs = performance.now() - t0;
    return { ok: accept(res.status), latencyMs, detail: `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, latencyMs: performance.now() - t0, detail: describeNetError(err, timeoutMs) };
  }
}
