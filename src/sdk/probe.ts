import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface ProbeResult {
  ok: boolean;
  /** Time to the answer (or to the failure), in milliseconds. */
  latencyMs: number;
  error?: string;
}

/**
 * Checks that `url` answers within `timeoutMs`.
 * - `http:`/`https:`: a GET through fetch; any status below 500 counts as reachable.
 * - `tcp://host:port`: a TCP connect.
 * Never throws: failures are a result.
 */
export async function probeUrl(url: string, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  const latency = (): number => Math.round((performance.now() - start) * 1000) / 1000;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, latencyMs: 0, error: `invalid URL ${JSON.stringify(url)}` };
  }
  try {
    if (parsed.protocol === 'tcp:') {
      await tcpConnect(parsed.hostname, Number(parsed.port), timeoutMs);
      return { ok: true, latencyMs: latency() };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return { ok: false, latencyMs: 0, error: `unsupported protocol ${parsed.protocol} (use http:, https: or tcp:)` };
    }
    const res = await fetch(parsed, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.body?.cancel().catch(() => {});
    return res.status < 500 ? { ok: true, latencyMs: latency() } : { ok: false, latencyMs: latency(), error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const detail = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { ok: false, latencyMs: latency(), error: detail };
  }
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!Number.isInteger(port) || port <= 0) {
      reject(new Error('tcp:// URLs need a port, e.g. tcp://localhost:5432'));
      return;
    }
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' }));
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      socket.destroy();
      reject(err);
    });
  });
}
