import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: { error?: unknown; reason?: unknown } | undefined;
}

/**
 * Sends `head` (a request line and headers, CRLF-separated, without the blank line)
 * and `body` as raw bytes over a new TCP connection, so the URL reaches the server
 * exactly as written (no client normalises or re-encodes it), and reads the answer
 * until the server closes. Loopback only.
 */
export function rawRequest(port: number, head: string | Buffer, body: string | Buffer = '', timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer within ${timeoutMs} ms to ${String(head).split('\r\n')[0]}`)); }, timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (err) => { if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET' || !chunks.length) { clearTimeout(timer); reject(err); } });
    sock.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const lines = (split >= 0 ? text.slice(0, split) : text).split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const bodyText = split >= 0 ? text.slice(split + 4) : '';
      let json: RawResponse['json'];
      try { json = JSON.parse(bodyText) as RawResponse['json']; } catch { json = undefined; }
      resolve({ status, headers, body: bodyText, json });
    });
    const b = typeof body === 'string' ? Buffer.from(body) : body;
    const len = b.length || /^(POST|PUT|PATCH) /.test(String(head)) ? `Content-Length: ${b.length}\r\n` : '';
    sock.write(Buffer.concat([Buffer.isBuffer(head) ? head : Buffer.from(head, 'utf8'), Buffer.from(`\r\nHost: 127.0.0.1\r\nConnection: close\r\n${len}\r\n`), b]));
  });
}

/** A raw request line plus headers: `METHOD target HTTP/1.1` and `name: value` lines. */
export function requestHead(method: string, target: string, headers: Record<string, string> = {}): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}
