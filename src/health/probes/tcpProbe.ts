import net from 'node:net';
import { describeNetError, type ProbeResult } from './Probe.js';

/** Splits `host:port` or `[v6]:port`. @throws RangeError when there is no valid port. */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port > 0 && port < 65536)) throw new RangeError(`Expected \`host:port\`, got \`${address}\``);
  return { host: m[1] || '127.0.0.1', port };
}

/** Opens a TCP connection to `address` (`host:port`) and closes it at once. */
export function tcpProbe(address: string, timeoutMs: number): Promise<ProbeResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let target: { host: string; port: number };
    try {
      target = splitHostPort(address);
    } catch (err) {
      resolve({ ok: false, latencyMs: 0, detail: (err as Error).message });
      return;
    }
    const sock = net.connect(target);
    const done = (ok: boolean, detail: string) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ ok, latencyMs: performance.now() - t0, detail });
    };
    const timer = setTimeout(() => done(false, `timed out after ${timeoutMs / 1000}s`), timeoutMs);
    timer.unref();
    sock.once('connect', () => done(true, 'connected'));
    sock.once('error', (err) => done(false, describeNetError(err, timeoutMs)));
  });
}
