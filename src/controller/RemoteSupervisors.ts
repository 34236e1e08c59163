import { readFileSync } from 'node:fs';
import { alertTarget, resolveTarget, type OkTarget, type ReplicaView, type SupervisorPort, type TargetCheck } from './SupervisorPort.js';

/** A supervisor the standalone controller may call, with the file holding its control-API token. */
export interface SupervisorEndpoint {
  url: string;
  tokenFile: string;
}

export interface RemoteSupervisorsOptions {
  supervisors: readonly SupervisorEndpoint[];
  /** `instance` label → supervisor URL, for targets whose scrape address is not the control API's. */
  instanceMap?: ReadonlyMap<string, string> | undefined;
  /** Timeout of each control-API call, ms. Default 2000. */
  timeoutMs?: number | undefined;
}

/** `host:port` of a URL, as Prometheus writes it in the `instance` label. */
export function instanceOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`; // an IPv6 hostname keeps its brackets
}

/**
 * Several supervisors behind one controller (`background controller`). Each alert
 * goes to the supervisor its `instance` label names: through the instance map
 * first, else the supervisor whose URL has that `host:port`. Calls its control API:
 * `GET /api/v1/agents` for replica states (circuit_open and failed mean skip) and
 * `POST /api/v1/agents/:slot/restart` with `{reason:'alert', alertname}`.
 */
export class RemoteSupervisors implements SupervisorPort {
  private readonly byUrl = new Map<string, SupervisorEndpoint>();
  private readonly byInstance = new Map<string, SupervisorEndpoint>();
  private readonly timeoutMs: number;

  /** @throws Error when the instance map names a URL that is not among the supervisors */
  constructor(opts: RemoteSupervisorsOptions) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    for (const s of opts.supervisors) {
      const url = s.url.replace(/\/+$/, '');
      const ep = { url, tokenFile: s.tokenFile };
      this.byUrl.set(url, ep);
      this.byInstance.set(instanceOf(url), ep);
    }
    for (const [instance, rawUrl] of opts.instanceMap ?? []) {
      const ep = this.byUrl.get(rawUrl.replace(/\/+$/, ''));
      if (!ep) throw new Error(`--map ${instance}=${rawUrl}: ${rawUrl} is not one of the --supervisor URLs (${[...this.byUrl.keys()].join(', ') || 'none'})`);
      this.byInstance.set(instance, ep);
    }
  }

  async inspect(labels: Readonly<Record<string, string>>): Promise<TargetCheck> {
    const target = alertTarget(labels);
    const instance = labels.instance;
    const ep = instance ? this.byInstance.get(instance) : undefined;
    if (!ep) {
      const reason = instance ? `no supervisor configured for instance ${instance}: add --supervisor <url>=<token-file> or --map ${instance}=<url>` : 'the alert has no `instance` label to find its supervisor by';
      return { kind: 'unknown', target, reason, supervisor: null };
    }
    let rows: ReplicaView[];
    try {
      const body = await this.call<{ agents: ReplicaView[] }>(ep, 'GET', '/api/v1/agents');
      rows = body.agents;
    } catch (err) {
      return { kind: 'unavailable', target, reason: `supervisor ${ep.url}: ${(err as Error).message}`, supervisor: ep.url };
    }
    return resolveTarget(rows, labels, ep.url);
  }

  async restart(target: OkTarget, alertname: string): Promise<void> {
    const ep = target.supervisor ? this.byUrl.get(target.supervisor) : undefined;
    if (!ep) throw new Error(`unknown supervisor ${String(target.supervisor)}`);
    for (const slot of target.slots) await this.call(ep, 'POST', `/api/v1/agents/${encodeURIComponent(slot)}/restart`, { reason: 'alert', alertname });
  }

  private async call<T>(ep: SupervisorEndpoint, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let token: string;
    try {
      token = readFileSync(ep.tokenFile, 'utf8').trim();
    } catch (err) {
      throw new Error(`cannot read the API token file ${ep.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    let res: Response;
    try {
      res = await fetch(`${ep.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new Error(`${method} ${path} failed: ${cause}`, { cause: err });
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    return (text ? JSON.parse(text) : {}) as T;
  }
}
