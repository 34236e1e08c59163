import type { AgentConfig, HealthChecksConfig } from '../config/schema.js';
import { cfgSecs, dur } from './format.js';
import { httpProbe } from './probes/httpProbe.js';
import type { ProbeResult } from './probes/Probe.js';
import { tcpProbe } from './probes/tcpProbe.js';
import { labelOf, type Target } from './Target.js';
import { ok, resultOf, skipped, type CheckContext, type CheckResult, type Finding, type HealthCheck } from './types.js';

/** A dependency from an agent's `connectivity` list. `key` identifies it across agents. */
export interface Dependency {
  key: string;
  /** `http` for an http(s) URL, `tcp` for `tcp://host:port` or an address. */
  kind: 'http' | 'tcp';
  /** The URL, or `host:port`. */
  where: string;
  timeoutMs: number;
}

export function dependenciesOf(a: AgentConfig, checkTimeoutS: number): Dependency[] {
  return a.connectivity.flatMap((c): Dependency[] => {
    const timeoutMs = Math.min(c.timeout, checkTimeoutS) * 1000;
    const where = c.address ?? (c.url?.startsWith('tcp://') ? c.url.slice('tcp://'.length).replace(/\/.*$/, '') : c.url);
    if (!where) return [];
    return [{ key: c.name ?? c.url ?? where, kind: c.address || c.url?.startsWith('tcp://') ? 'tcp' : 'http', where, timeoutMs }];
  });
}

/** The default way to check one dependency: any HTTP answer below 500, or a TCP connect. */
export const checkDependency = (d: Dependency): Promise<ProbeResult> => (d.kind === 'http' ? httpProbe(d.where, d.timeoutMs) : tcpProbe(d.where, d.timeoutMs));

interface DepState { at: number; pending: Promise<ProbeResult> | undefined; last: ProbeResult | undefined; failures: number; since: number | undefined }
interface Report { at: number; ok: boolean; error: string | undefined; failures: number; since: number | undefined }

/**
 * connectivity: can the agent reach what it needs? The supervisor checks each
 * configured dependency once per round however many replicas share it, and also
 * counts what agents report (`connectivity` messages, valid for 10 rounds). One
 * failure is degraded, two in a row unhealthy. Never a reason to restart: a
 * restart does not fix the network. A dependency failing for several agents is
 * folded into one system finding by the HealthChecker (sharedOutages.ts).
 */
export class ConnectivityCheck implements HealthCheck {
  readonly name = 'connectivity' as const;
  private readonly deps = new Map<string, DepState>();
  private readonly reports = new Map<string, Map<string, Report>>();

  constructor(private readonly cfg: HealthChecksConfig['connectivity'], readonly intervalMs: number, private readonly check: (d: Dependency) => Promise<ProbeResult> = checkDependency) {}

  /** Records an agent's own view of a dependency (a protocol `connectivity` message from `targetId`). */
  report(targetId: string, msg: { target: string; ok: boolean; error?: string | undefined }, at: number): void {
    const byTarget = this.reports.get(targetId) ?? new Map<string, Report>();
    this.reports.set(targetId, byTarget);
    const prev = byTarget.get(msg.target);
    const failures = msg.ok ? 0 : (prev?.failures ?? 0) + 1;
    byTarget.set(msg.target, { at, ok: msg.ok, error: msg.error, failures, since: msg.ok ? undefined : (prev?.since ?? at) });
  }

  /** Synchronous when the agent has no configured dependency (nothing to wait for). */
  evaluate(t: Target, ctx: CheckContext): CheckResult | Promise<CheckResult> {
    if (t.state !== 'running') return skipped(t.state);
    const deps = dependenciesOf(t.config, this.cfg.timeout);
    if (deps.length === 0) return this.judge(t, ctx, []);
    return Promise.all(deps.map(async (d) => ({ d, st: await this.probe(d, ctx.now) }))).then((checked) => this.judge(t, ctx, checked));
  }

  private judge(t: Target, ctx: CheckContext, checked: { d: Dependency; st: DepState }[]): CheckResult {
    const findings: Finding[] = [];
    const who = labelOf(t);
    for (const { d, st } of checked) {
      if (!st.last || st.last.ok) continue;
      const label = d.key === d.where ? d.where : `${d.key} (${d.where})`;
      findings.push({
        check: 'connectivity', kind: 'dependency_unreachable', severity: st.failures >= 2 ? 'unhealthy' : 'degraded', value: st.last.detail, threshold: `reachable within ${dur(d.timeoutMs)}`,
        since: st.since ?? ctx.now, dependency: d.key, restart: false,
        message: `${who}: cannot reach ${label}: ${st.last.detail} (${st.failures} check(s) in a row, timeout ${cfgSecs(d.timeoutMs / 1000)}) — a network or dependency problem; restarting the agent will not fix it`,
      });
    }
    let reported = 0;
    const reports = this.reports.get(t.id);
    for (const [target, r] of reports ?? []) {
      if (r.at < (t.startedAt ?? 0)) {
        reports?.delete(target); // from an earlier process
        continue;
      }
      if (ctx.now - r.at > 10 * this.intervalMs) continue;
      reported++;
      if (r.ok) continue;
      findings.push({
        check: 'connectivity', kind: 'dependency_unreachable', severity: r.failures >= 2 ? 'unhealthy' : 'degraded', value: r.error ?? 'unreachable', threshold: 'reachable',
        since: r.since ?? r.at, dependency: target, restart: false,
        message: `${who}: reports it cannot reach ${target}${r.error ? `: ${r.error}` : ''} (${r.failures} report(s) in a row, last ${dur(ctx.now - r.at)} ago)`,
      });
    }
    const total = checked.length + reported;
    if (total === 0) return skipped('no dependencies');
    const summary = `${total - findings.length}/${total} reachable`;
    return findings.length ? resultOf(summary, findings) : ok(summary);
  }

  forget(id: string): void {
    this.reports.delete(id);
  }

  /** One check per dependency per round, shared by every replica that needs it. */
  private async probe(d: Dependency, now: number): Promise<DepState> {
    let st = this.deps.get(d.key);
    if (!st) this.deps.set(d.key, (st = { at: -Infinity, pending: undefined, last: undefined, failures: 0, since: undefined }));
    if (st.pending) await st.pending;
    else if (now - st.at >= this.intervalMs / 2) {
      st.at = now;
      const s = st;
      s.pending = this.check(d);
      const r = await s.pending;
      s.pending = undefined;
      s.last = r;
      s.failures = r.ok ? 0 : s.failures + 1;
      s.since = r.ok ? undefined : (s.since ?? now);
    }
    return st;
  }
}
