import type { HealthChecksConfig } from '../config/schema.js';
import type { CrashMemory } from './CrashMemory.js';
import { diagnose } from './diagnose.js';
import { cfgSecs, dur, pct } from './format.js';
import { probeFromSpec, type Probe, type ProbeSpec } from './probes/Probe.js';
import { ProbeTracker } from './probes/ProbeTracker.js';
import { labelOf, type Target } from './Target.js';
import { cpuSince, ok, resultOf, skipped, type CheckContext, type CheckResult, type Finding, type HealthCheck } from './types.js';
import { notRunning } from './notRunning.js';

export interface AgentResponseOptions {
  cfg: HealthChecksConfig['agent_response'];
  /** task_progress.idle_cpu_percent: below it a process is waiting, not computing (for the diagnosis). */
  idleCpuPercent: number;
  intervalMs: number;
  /** Crashes the supervisor reported: a replica restarted after one is degraded until stable. */
  crashes?: CrashMemory | undefined;
  /** Builds an agent's probe (tests inject fakes). Default: http/tcp/exec from the spec. */
  probeFor?: ((spec: ProbeSpec) => Probe) | undefined;
}

interface Misses {
  incarnation: string | undefined;
  /** Consecutive failed pings (protocol) or rounds found stopped (plain command). */
  failures: number;
  since: number | undefined;
  lastPongAt: number | undefined;
  lastRttMs: number | undefined;
}

/**
 * agent_response: is the agent answering? A protocol agent is pinged and must
 * answer within `timeout`; `max_failures` misses in a row make it unhealthy
 * (fewer: degraded), and so do heartbeats overdue by `heartbeat_miss_multiplier ×
 * heartbeat_interval`. A plain command with a `probe` is probed kubelet-style; one
 * without is alive while its process runs and is not stopped. A per_task process's
 * liveness is its output, judged by task_progress against stale_task_threshold.
 * A replica that is not running (backoff, breaker open, given up) is reported too.
 */
export class AgentResponseCheck implements HealthCheck {
  readonly name = 'agent_response' as const;
  readonly intervalMs: number;
  private readonly misses = new Map<string, Misses>();
  private readonly probes = new Map<string, { incarnation: string | undefined; tracker: ProbeTracker }>();

  constructor(private readonly o: AgentResponseOptions) {
    this.intervalMs = o.intervalMs;
  }

  async evaluate(t: Target, ctx: CheckContext): Promise<CheckResult> {
    const down = notRunning(t, ctx.now, this.o.crashes?.recent(t, ctx.now), this.o.crashes?.stableMs);
    if (down && t.state !== 'running') return down;
    if (t.pid === undefined) return skipped('no process');
    const live = await this.liveness(t, ctx);
    return down ? resultOf(`${live.summary}; ${down.summary}`, [...live.findings, ...down.findings], live.measurements) : live;
  }

  private async liveness(t: Target, ctx: CheckContext): Promise<CheckResult> {
    const m = this.missesOf(t);
    if (t.protocol && t.ping) return this.pingCheck(t, ctx, m);
    if (t.mode === 'service' && t.config.probe) return this.probeCheck(t, ctx, t.config.probe);
    const state = ctx.procState(t.pid as number);
    if (state === 'T' || state === 't') {
      m.failures++;
      m.since ??= ctx.now;
      return resultOf(`stopped (${m.failures}×)`, [this.finding(t, ctx, m, 'process_stopped', `found stopped ${m.failures} time(s) in a row (max_failures ${this.o.cfg.max_failures})`, false)]);
    }
    m.failures = 0;
    m.since = undefined;
    if (t.mode === 'per_task') return ok(`output ${dur(ctx.now - (t.lastOutputAt ?? t.startedAt ?? ctx.now))} ago`);
    return ok('process alive (no protocol, no probe)');
  }

  forget(id: string): void {
    this.misses.delete(id);
    this.probes.delete(id);
    this.o.crashes?.forget(id);
  }

  /**
   * The verdict when the heartbeat budget ran out (HeartbeatWatch), without waiting
   * for a ping: unhealthy, diagnosed from the process state, the CPU and whether
   * pongs still came after the heartbeats stopped. The next ping round confirms it.
   */
  overdue(t: Target, ctx: CheckContext): CheckResult {
    const m = this.missesOf(t);
    const { cfg } = this.o;
    const hbLimitMs = cfg.heartbeat_miss_multiplier * t.config.heartbeat_interval * 1000;
    const hbAt = t.lastHeartbeatAt ?? t.startedAt ?? ctx.now;
    const hbAge = ctx.now - hbAt;
    const what = `no heartbeat for ${dur(hbAge)} (heartbeat_miss_multiplier ${cfg.heartbeat_miss_multiplier} × heartbeat_interval ${cfgSecs(t.config.heartbeat_interval)} = ${cfgSecs(hbLimitMs / 1000)})`;
    const summary = `no heartbeat for ${dur(hbAge)}`;
    const missing = (tail: string): CheckResult => resultOf(summary, [{
      check: 'agent_response', kind: 'heartbeat_missing', severity: 'unhealthy', value: Math.round(hbAge / 100) / 10, threshold: hbLimitMs / 1000, unit: 's',
      since: hbAt, diagnosis: 'no_heartbeats', restart: true, message: `${labelOf(t)}: ${what}; ${tail}`,
    }]);
    if (m.lastPongAt !== undefined && m.lastPongAt > hbAt && m.failures === 0) return missing('it still answers pings, so its event loop runs but its heartbeat timer does not');
    const state = ctx.procState(t.pid as number);
    if (state === 'T' || state === 't' || m.failures > 0) {
      m.since ??= hbAt;
      return resultOf(summary, [this.finding(t, ctx, m, m.failures > 0 ? 'ping_timeout' : 'heartbeat_missing', what, true)]);
    }
    // Whether its event loop still runs, a ping tells (the checker sends one now).
    return missing(`process state ${state ?? '?'}, CPU ${pct(cpuSince(ctx, t.pid as number, hbAt))} — a ping now tells a blocked event loop from a stopped heartbeat timer`);
  }

  private async pingCheck(t: Target, ctx: CheckContext, m: Misses): Promise<CheckResult> {
    const { cfg } = this.o;
    let pingError: string | undefined;
    try {
      m.lastRttMs = await (t.ping as (ms: number) => Promise<number>)(cfg.timeout * 1000);
      m.lastPongAt = ctx.clock?.() ?? ctx.now;
      m.failures = 0;
      m.since = undefined;
    } catch (err) {
      pingError = (err as Error).message;
      if (pingError === 'agent exited') return skipped('exited during the ping');
      m.failures++;
      m.since ??= ctx.now;
    }
    // The ping may have waited up to `timeout`: judge the heartbeat at the time it ended, not the round's start.
    const now = ctx.clock?.() ?? ctx.now;
    const hbLimitMs = cfg.heartbeat_miss_multiplier * t.config.heartbeat_interval * 1000;
    const hbAt = (t.heartbeatAt ? t.heartbeatAt() : t.lastHeartbeatAt) ?? t.startedAt ?? now;
    const hbAge = now - hbAt;
    const hbLate = hbAge > hbLimitMs;
    const summary = `${m.lastRttMs !== undefined && !pingError ? `pong ${m.lastRttMs.toFixed(1)} ms` : 'no pong'}, heartbeat ${dur(hbAge)} ago`;
    if (!hbLate && m.failures === 0) return ok(summary, m.lastRttMs !== undefined ? { response_seconds: m.lastRttMs / 1000 } : undefined);
    const parts: string[] = [];
    if (hbLate) parts.push(`no heartbeat for ${dur(hbAge)} (heartbeat_miss_multiplier ${cfg.heartbeat_miss_multiplier} × heartbeat_interval ${cfgSecs(t.config.heartbeat_interval)} = ${cfgSecs(hbLimitMs / 1000)})`);
    if (m.failures > 0) parts.push(`${m.failures} ping(s) in a row unanswered within ${cfgSecs(cfg.timeout)} (max_failures ${cfg.max_failures})`);
    if (m.failures > 0) return resultOf(summary, [this.finding(t, ctx, m, 'ping_timeout', parts.join(' and '), hbLate)]);
    return resultOf(summary, [{
      check: 'agent_response', kind: 'heartbeat_missing', severity: 'unhealthy', value: Math.round(hbAge / 100) / 10, threshold: hbLimitMs / 1000, unit: 's',
      since: hbAt, diagnosis: 'no_heartbeats', restart: true,
      message: `${labelOf(t)}: ${parts[0]}; it still answers pings, so its event loop runs but its heartbeat timer does not`,
    }]);
  }

  private finding(t: Target, ctx: CheckContext, m: Misses, kind: string, what: string, forceUnhealthy: boolean): Finding {
    const pid = t.pid as number;
    const now = ctx.clock?.() ?? ctx.now;
    const heartbeat = t.heartbeatAt ? t.heartbeatAt() : t.lastHeartbeatAt;
    const silentSince = Math.max(heartbeat ?? -Infinity, m.lastPongAt ?? -Infinity, t.startedAt ?? -Infinity);
    const d = diagnose({
      procState: ctx.procState(pid), cpuPercent: cpuSince(ctx, pid, silentSince), idleCpuPercent: this.o.idleCpuPercent,
      protocol: t.protocol, unresponsive: true, silentForMs: Number.isFinite(silentSince) ? now - silentSince : undefined,
    });
    const unhealthy = forceUnhealthy || m.failures >= this.o.cfg.max_failures;
    return {
      check: 'agent_response', kind: d.kind === 'stopped' ? 'process_stopped' : kind, severity: unhealthy ? 'unhealthy' : 'degraded',
      value: m.failures, threshold: this.o.cfg.max_failures, unit: 'count', since: m.since ?? ctx.now,
      message: `${labelOf(t)}: ${what}; ${d.text}`, diagnosis: d.kind, restart: unhealthy,
    };
  }

  private async probeCheck(t: Target, ctx: CheckContext, spec: ProbeSpec): Promise<CheckResult> {
    let entry = this.probes.get(t.id);
    if (!entry || entry.incarnation !== t.incarnation) {
      const probe = (this.o.probeFor ?? probeFromSpec)(spec);
      entry = { incarnation: t.incarnation, tracker: new ProbeTracker(probe, spec.period * 1000, spec.timeout * 1000) };
      this.probes.set(t.id, entry);
    }
    const st = await entry.tracker.poll(ctx.now);
    if (!st.last) return ok(`${spec.type} probe pending`);
    const summary = `${spec.type} probe ${st.last.ok ? 'ok' : 'failed'} (${st.last.detail}, ${st.last.latencyMs.toFixed(0)} ms)`;
    if (st.failures === 0) return ok(summary);
    const unhealthy = st.failures >= spec.failure_threshold;
    const d = diagnose({ procState: ctx.procState(t.pid as number), cpuPercent: cpuSince(ctx, t.pid as number, st.failingSince ?? ctx.now), idleCpuPercent: this.o.idleCpuPercent, protocol: false, unresponsive: true });
    return resultOf(summary, [{
      check: 'agent_response', kind: 'probe_failed', severity: unhealthy ? 'unhealthy' : 'degraded', value: st.failures, threshold: spec.failure_threshold, unit: 'count',
      since: st.failingSince ?? ctx.now, diagnosis: d.kind, restart: unhealthy,
      message: `${labelOf(t)}: ${spec.type} probe failed ${st.failures} time(s) in a row (failure_threshold ${spec.failure_threshold}): ${st.last.detail}; ${d.text}`,
    }]);
  }

  private missesOf(t: Target): Misses {
    let m = this.misses.get(t.id);
    if (!m || m.incarnation !== t.incarnation) {
      m = { incarnation: t.incarnation, failures: 0, since: undefined, lastPongAt: undefined, lastRttMs: undefined };
      this.misses.set(t.id, m);
    }
    return m;
  }
}
