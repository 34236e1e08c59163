import type { StateDir } from '../../supervisor/StateDir.js';
import { ApiClient } from '../client.js';
import { CliError, EXIT } from '../CliError.js';
import { failureCause, httpRequest, type HttpAnswer } from '../httpRequest.js';

/** How long one API call may take before the supervisor counts as unreachable (ms). */
export const CALL_TIMEOUT_MS = 2500;

export interface Answer<T> {
  status: number;
  body: T;
}

/**
 * The monitor's connection to the control API: found through the state
 * directory like every command (ApiClient.fromStateDir, whose errors say what
 * to do), but with requests that `close()` aborts, so quitting never waits for
 * a slow or vanished supervisor.
 */
export class MonitorClient {
  private readonly closing = new AbortController();

  private constructor(readonly url: string, private readonly token: string) {}

  /** @throws CliError (exit 3) when no supervisor is running for the state directory. */
  static fromStateDir(dir: StateDir): MonitorClient {
    const api = ApiClient.fromStateDir(dir);
    return new MonitorClient(api.endpoint.url, dir.readToken() ?? '');
  }

  /** Any HTTP answer; a network failure or timeout throws CliError (exit 3). */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer<T>> {
    let res: HttpAnswer;
    try {
      res = await httpRequest(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(CALL_TIMEOUT_MS)]),
      });
    } catch (err) {
      throw new CliError(`Cannot reach the supervisor at ${this.url}: ${failureCause(err)}. It may have stopped or crashed; start it with: agentic-scrum-setup background start --config <file>`, EXIT.NOT_RUNNING);
    }
    const { text } = res;
    try {
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
    } catch {
      return { status: res.status, body: { error: 'bad_response', reason: text.slice(0, 200) } as T };
    }
  }

  /** Like request(), but an answer of 400 or more throws CliError with the server's reason. */
  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const r = await this.request<T & { error?: string; reason?: string }>(method, path, body);
    if (r.status >= 400) throw new CliError(r.body.reason ?? r.body.error ?? `HTTP ${r.status}`, r.status < 500 ? EXIT.USAGE : EXIT.FAILED);
    return r.body;
  }

  /** Aborts every request in flight and any later one. Idempotent. */
  close(): void {
    this.closing.abort();
  }
}
