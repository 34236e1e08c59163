import type { StateDir, Endpoint } from '../supervisor/StateDir.js';
import { readJson } from '../supervisor/StateDir.js';
import { CliError, EXIT } from './CliError.js';
import { failureCause, httpRequest, type HttpAnswer } from './httpRequest.js';

const START_HINT = 'Start one with: agentic-scrum-setup background start --config <file>';
const WHERE_HINT = 'If one was started with a config that sets background.state_dir, pass that --config <file> (or --state-dir <dir>).';

/** Talks to a running supervisor's control API, found through its state directory. */
export class ApiClient {
  private constructor(readonly endpoint: Endpoint, private readonly token: string) {}

  /** @throws CliError (exit 3) when no supervisor is running for the state dir. */
  static fromStateDir(dir: StateDir): ApiClient {
    const endpoint = readJson<Endpoint>(dir.endpointFile);
    const token = dir.readToken();
    if (!endpoint || !token) throw new CliError(`No supervisor is running for state directory ${dir.root}. ${WHERE_HINT} ${START_HINT}`, EXIT.NOT_RUNNING);
    return new ApiClient(endpoint, token);
  }

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 10_000): Promise<{ status: number; body: T }> {
    let res: HttpAnswer;
    try {
      res = await httpRequest(`${this.endpoint.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new CliError(`Cannot reach the supervisor at ${this.endpoint.url} (pid ${this.endpoint.pid}): ${failureCause(err)}. It may have stopped or crashed. ${START_HINT}`, EXIT.NOT_RUNNING);
    }
    const { text } = res;
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { error: 'bad_response', reason: text.slice(0, 200) };
    }
    return { status: res.status, body: parsed as T };
  }

  /** Like request(), but a non-2xx answer becomes a CliError carrying the server's reason (and its `error` as the code). */
  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const r = await this.request<T & { error?: string; reason?: string }>(method, path, body, timeoutMs);
    if (r.status >= 400) {
      const exit = r.status === 400 || r.status === 404 || r.status === 409 || r.status === 429 ? EXIT.USAGE : EXIT.FAILED;
      throw new CliError(`${r.body.reason ?? r.body.error ?? `HTTP ${r.status}`}`, exit, typeof r.body.error === 'string' ? r.body.error : undefined);
    }
    return r.body;
  }
}
