import { EventEmitter } from 'node:events';
import { readProcStat } from '../supervisor/procfs.js';
import type { SupervisorEvents } from '../supervisor/Supervisor.js';
import type { ConnectivityCheck } from './connectivity.js';
import { createChecks } from './createChecks.js';
import { CrashMemory } from './CrashMemory.js';
import { currentResults, type StoredResult, type SystemSnapshot, type TargetHealth } from './aggregate.js';
import { FindingLedger } from './FindingLedger.js';
import type { HealthCheckerEvents, HealthCheckerOptions } from './HealthCheckerOptions.js';
import { logFindings } from './logFindings.js';
import { notRunning } from './notRunning.js';
import { capacityOf, systemVerdict } from './systemVerdict.js';
import { targetsOf, type Target } from './Target.js';
import { UnhealthyRestarter } from './UnhealthyRestarter.js';
import { worst, type CheckContext, type CheckName, type CheckResult, type Finding, type HealthCheck, type Verdict } from './types.js';

export type { HealthCheckerEvents, HealthCheckerOptions } from './HealthCheckerOptions.js';

/**
 * Runs the health checks on their intervals (unref'd timers), keeps each
 * target's latest result per check, and turns them into verdicts: per target the
 * worst of its findings, and a system verdict from capacity by role, shared
 * dependency outages and disks. Changes are events and log lines; an unhealthy
 * finding that warrants it requests one restart per process through `restart`.
 */
export class HealthChecker extends EventEmitter<HealthCheckerEvents> {
  readonly checks: readonly HealthCheck[];
  private readonly stored = new Map<string, Map<CheckName, StoredResult>>();
  /** Target ids seen by the last recomputation or observation: checks forget the ones that vanish. */
  private known = new Set<string>();
  private readonly ledger = new FindingLedger();
  private health = new Map<string, TargetHealth>();
  private sys: SystemSnapshot = { verdict: 'healthy', agents: { configured: 0, up: 0, down: [] }, replicas: { configured: 0, up: 0 }, capacity: {}, findings: [], resources: undefined, checked_at: 0 };
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inFlight = new Map<CheckName, Promise<void>>();
  private readonly rerun = new Set<CheckName>();
  private readonly restarter: UnhealthyRestarter | undefined;
  private readonly crashes: CrashMemory;
  private readonly now: () => number;
  private readonly onMessage: (...e: SupervisorEvents['message']) => void;
  private readonly onExit: (...e: SupervisorEvents['agentExit']) => void;
  private stopped = false;

  constructor(private readonly o: HealthCheckerOptions) {
    super();
    this.now = o.now ?? Date.now;
    this.crashes = new CrashMemory(o.bg.monitoring.recovery.stable_uptime * 1000);
    this.checks = o.checks ?? createChecks(o.bg, this.crashes);
    this.restarter = o.restart ? new UnhealthyRestarter(o.restart, o.logger) : undefined;
    const conn = this.checks.find((c): c is ConnectivityCheck => c.name === 'connectivity' && 'report' in c);
    this.onMessage = ({ slot, message }) => { if (message.type === 'connectivity') conn?.report(slot, message, this.now()); };
    this.onExit = ({ slot, reason }) => {
      this.crashes.record(slot, reason, this.now());
      setImmediate(() => this.refreshLifecycle());
    };
  }

  /** Starts the timers; a first round of every check runs as soon as the source is ready. */
  start(): void {
    const kick = setInterval(() => {
      if (this.o.source.ready === false) return;
      clearInterval(kick);
      this.observe();
      this.measureSystem();
      for (const c of this.checks) void this.runCheck(c.name);
    }, 100);
    kick.unref();
    this.timers.push(kick);
    for (const c of this.checks) this.every(c.intervalMs, () => void this.runCheck(c.name));
    if (this.checks.some((c) => c.observe)) this.every(this.o.bg.monitoring.sample_interval * 500, () => this.observe());
    this.every(this.o.bg.monitoring.check_interval * 1000, () => this.measureSystem());
    this.o.source.on?.('message', this.onMessage);
    this.o.source.on?.('agentExit', this.onExit);
  }

  /** Stops the timers and waits for rounds in flight. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.o.source.off?.('message', this.onMessage);
    this.o.source.off?.('agentExit', this.onExit);
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Every target's health after the latest rounds. */
  targets(): TargetHealth[] {
    return [...this.health.values()];
  }

  system(): SystemSnapshot {
    return this.sys;
  }

  /** Runs one round of a check over every target (a round already running is followed by one more). */
  runCheck(name: CheckName): Promise<void> {
    const check = this.checks.find((c) => c.name === name);
    if (!check || this.stopped || this.o.source.ready === false) return Promise.resolve();
    const running = this.inFlight.get(name);
    if (running) {
      this.rerun.add(name);
      return running;
    }
    const round = this.round(check).finally(() => {
      this.inFlight.delete(name);
      if (this.rerun.delete(name)) void this.runCheck(name);
    });
    this.inFlight.set(name, round);
    return round;
  }

  /** Feeds the latest resource samples to the checks that watch every sample. */
  observe(): void {
    if (this.o.source.ready === false) return;
    const targets = targetsOf(this.o.source);
    const ctx = this.context(this.now());
    for (const t of targets) this.known.add(t.id);
    for (const c of this.checks) c.observe?.(targets, ctx);
  }

  /** Measures host resources and recomputes the system verdict. */
  measureSystem(): void {
    if (this.o.source.ready === false) return;
    this.sys.resources = this.o.system?.measure();
    this.recompute(targetsOf(this.o.source), this.now());
    this.emit('evaluated', 'system');
  }

  /**
   * Right after an agent exits: records "not running" for every replica that is
   * down, without waiting for the next agent_response round (or for its pings).
   */
  refreshLifecycle(): void {
    if (this.stopped || !this.checks.some((c) => c.name === 'agent_response')) return;
    const now = this.now();
    const targets = targetsOf(this.o.source);
    for (const t of targets) {
      const r = notRunning(t, now, this.crashes.recent(t, now), this.crashes.stableMs);
      if (!r || r.status === 'skipped' || (t.state === 'running' && !r.findings.some((f) => f.kind === 'recent_crash'))) continue;
      if (t.state === 'running' && this.stored.get(t.id)?.get('agent_response')?.incarnation === t.incarnation) continue; // keep its liveness result
      const byCheck = this.stored.get(t.id) ?? new Map<CheckName, StoredResult>();
      this.stored.set(t.id, byCheck.set('agent_response', { ...r, at: now, incarnation: t.incarnation }));
    }
    this.recompute(targets, now);
    this.emit('evaluated', 'agent_response');
  }

  private async round(check: HealthCheck): Promise<void> {
    const now = this.now();
    const targets = targetsOf(this.o.source);
    const ctx = this.context(now);
    const results = await Promise.all(targets.map(async (t): Promise<CheckResult> => {
      try {
        return await check.evaluate(t, ctx);
      } catch (err) {
        this.o.logger?.error({ check: check.name, replica: t.id, err: (err as Error).message }, `health check ${check.name} failed on ${t.id}: ${(err as Error).message}`);
        return { status: 'skipped', summary: `check error: ${(err as Error).message}`, findings: [] };
      }
    }));
    if (this.stopped) return;
    targets.forEach((t, i) => {
      const byCheck = this.stored.get(t.id) ?? new Map<CheckName, StoredResult>();
      this.stored.set(t.id, byCheck.set(check.name, { ...(results[i] as CheckResult), at: now, incarnation: t.incarnation }));
    });
    this.recompute(targetsOf(this.o.source), this.now());
    this.emit('evaluated', check.name);
  }

  private recompute(targets: Target[], now: number): void {
    const live = new Set(targets.map((t) => t.id));
    for (const id of this.known) {
      if (live.has(id)) continue;
      this.stored.delete(id);
      this.ledger.drop(id);
      for (const c of this.checks) c.forget?.(id);
    }
    this.known = live;
    const { current, outages } = currentResults(targets, this.stored, now);
    const next = new Map<string, TargetHealth>();
    for (const t of targets) {
      const checks = current.get(t.id) ?? new Map<CheckName, StoredResult>();
      const all: Finding[] = [...checks.values()].flatMap((r) => r.findings);
      const change = this.ledger.update(t.id, all, now);
      const verdict = change.current.reduce<Verdict>((v, f) => worst(v, f.severity), 'healthy');
      const previous = this.health.get(t.id)?.verdict ?? 'healthy';
      next.set(t.id, { target: t, verdict, findings: change.current, checks: Object.fromEntries(checks) });
      logFindings(this.o.logger, t, change);
      for (const f of change.raised) this.emit('finding', { target: t, finding: f });
      for (const f of change.resolved) this.emit('resolved', { target: t, finding: f });
      if (verdict !== previous) this.emit('verdict', { target: t, verdict, previous });
      this.restarter?.consider(t, change.current);
    }
    this.health = next;
    this.restarter?.prune(targets);
    const extra = [...outages, ...(this.sys.resources && this.o.system ? this.o.system.findings(this.sys.resources, now) : [])];
    const sys = systemVerdict(capacityOf(this.o.source, (id) => next.get(id)?.verdict), [...next.values()].map((h) => h.verdict), extra, now);
    const change = this.ledger.update('system', sys.findings, now);
    logFindings(this.o.logger, undefined, change);
    for (const f of change.raised) this.emit('finding', { target: undefined, finding: f });
    for (const f of change.resolved) this.emit('resolved', { target: undefined, finding: f });
    const previous = this.sys.verdict;
    this.sys = { ...sys, findings: change.current, resources: this.sys.resources, checked_at: now };
    if (sys.verdict !== previous) {
      this.o.logger?.[sys.verdict === 'healthy' ? 'info' : 'warn']({ verdict: sys.verdict, previous }, `system health ${previous} → ${sys.verdict}: ${sys.agents.up}/${sys.agents.configured} agents up`);
      this.emit('system', { verdict: sys.verdict, previous, health: this.sys });
    }
  }

  private context(now: number): CheckContext {
    const procState = this.o.procState ?? ((pid: number) => readProcStat(pid)?.state);
    return { now, procState, sample: (pid) => this.o.source.sampler.get(pid), sampleIntervalMs: this.o.bg.monitoring.sample_interval * 1000 };
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, Math.max(10, ms));
    t.unref();
    this.timers.push(t);
  }
}
