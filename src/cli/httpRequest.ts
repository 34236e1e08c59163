import { request as httpSend, type IncomingMessage, type RequestOptions } from 'node:http';

/**
 * One HTTP exchange for the CLI, on node:http. `fetch` would do, but on Node 20 its
 * first use loads undici (about 100 ms and 10 MB before the request is even sent),
 * which is most of what a command like `status` costs; node:http is already in the
 * process. `https:` URLs load node:https on demand.
 */

export interface HttpRequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** The body, sent as is (set its content-type in `headers`). */
  body?: string;
  /** Ends the request (and the wait for its body) when it fires; AbortSignal.timeout() for a time limit. */
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  /** The body as UTF-8 text ('' when empty). */
  text: string;
}

/**
 * Sends one request and reads the whole answer.
 * @throws the socket's error (with its `code`: ECONNREFUSED, ENOTFOUND, ECONNRESET…),
 * or, when `signal` fired, an Error named like the signal's reason (`TimeoutError`
 * for AbortSignal.timeout(), `AbortError` for an AbortController): see failureCause().
 */
export async function httpRequest(url: string, opts: HttpRequestOptions = {}): Promise<HttpAnswer> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? (await import('node:https')).request : httpSend;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  const options: RequestOptions = { method: opts.method ?? 'GET', headers };
  const { signal } = opts;
  if (signal?.aborted) throw aborted(signal);
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = send(u, options, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', fail);
    });
    function fail(err: Error): void {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    }
    function onAbort(): void {
      const err = aborted(signal as AbortSignal);
      req.destroy(err); // ends the socket; the 'error' event rejects with err
      fail(err);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', fail);
    req.end(opts.body);
  });
}

/** The error a fired signal ends a request with: named after its reason, as fetch() would throw it. */
function aborted(signal: AbortSignal): Error {
  const reason = signal.reason as { name?: string; message?: string } | undefined;
  return Object.assign(new Error(reason?.message ?? 'The operation was aborted'), { name: reason?.name ?? 'AbortError' });
}

/** What went wrong with a request, in one word: the socket's code (ECONNREFUSED…) or the error's name (TimeoutError…). */
export function failureCause(err: unknown): string {
  return (err as { code?: string }).code ?? (err as Error).name;
}
