import { EventEmitter } from 'node:events';
import { readProcStat } from '../supervisor/procfs.js';
import type { SupervisorEvents } from '../supervisor/Supervisor.js';
import type { ConnectivityCheck } from './connectivity.js';
import { createChecks } from './createChecks.js';
import { CrashMemory } from './CrashMemory.js';
import { AgentResponseCheck } from './agentResponse.js';
import { HeartbeatWatch } from './HeartbeatWatch.js';
import type { StoredResult, SystemSnapshot, TargetHealth } from './aggregate.js';
import type { HealthCheckerEvents, HealthCheckerOptions } from './HealthCheckerOptions.js';
import { notRunning } from './notRunning.js';
import { targetOf, targetsOf, type Target } from './Target.js';
import { UnhealthyRestarter } from './UnhealthyRestarter.js';
import type { CheckContext, CheckName, CheckResult, HealthCheck } from './types.js';
import { VerdictBook } from './VerdictBook.js';

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
  /** The incarnation each running target had at the last observation. */
  private readonly seen = new Map<string, string | undefined>();
  private readonly book: VerdictBook;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inFlight = new Map<CheckName, Promise<void>>();
  private readonly rerun = new Set<CheckName>();
  private readonly crashes: CrashMemory;
  private readonly clockNow: () => number;
  private readonly onMessage: (...e: SupervisorEvents['message']) => void;
  private readonly onExit: (...e: SupervisorEvents['agentExit']) => void;
  private stopped = false;
  private readonly heartbeats: HeartbeatWatch | undefined;

  constructor(private readonly o: HealthCheckerOptions) {
    super();
    this.clockNow = o.now ?? Date.now;
    this.crashes = new CrashMemory(o.bg.monitoring.recovery.stable_uptime * 1000);
    this.checks = o.checks ?? createChecks(o.bg, this.crashes);
    const restarter = o.restart ? new UnhealthyRestarter(o.restart, o.logger) : undefined;
    this.book = new VerdictBook({ source: o.source, logger: o.logger, system: o.system, systemFindings: o.systemFindings, restarter, emit: (e, ...a) => (this.emit as (e: string, ...args: unknown[]) => boolean)(e, ...a) });
    const conn = this.checks.find((c): c is ConnectivityCheck => c.name === 'connectivity' && 'report' in c);
    this.onMessage = ({ slot, message }) => {
      if (message.type === 'connectivity') conn?.report(slot, message, this.clockNow());
      if (message.type === 'hello') this.heartbeats?.sync(targetsOf(this.o.source));
    };
    const response = this.checks.find((c): c is AgentResponseCheck => c instanceof AgentResponseCheck);
    this.heartbeats = response && new HeartbeatWatch({
      multiplier: o.bg.monitoring.health_checks.agent_response.heartbeat_miss_multiplier,
      now: this.clockNow,
      targets: () => (this.o.source.ready === false ? [] : targetsOf(this.o.source)),
      target: (id) => (this.o.source.ready === false ? undefined : targetOf(this.o.source, id)),
      onDue: (t) => this.heartbeatDue(response, t),
    });
    this.onExit = ({ slot, reason }) => {
      this.crashes.record(slot, reason, this.clockNow());
      setImmediate(() => {
        // A leak outlives the restart it caused: judged again for the replica that is not running,
        // before anything recomputes without the old process's result.
        if (this.checks.some((c) => c.name === 'memory_leaks')) void this.runCheck('memory_leaks');
        this.refreshLifecycle();
      });
    };
  }

  /** Starts the timers; a first round of every check runs as soon as the source is ready. */
  start(): void {
    const kick = setInterval(() => {
      if (this.o.source.ready === false) return;
      clearInterval(kick);
      this.observe();
      this.measureSystem();
      void this.runCheck(...this.checks.map((c) => c.name));
    }, 100);
    kick.unref();
    this.timers.push(kick);
    const byInterval = new Map<number, CheckName[]>();
    for (const c of this.checks) byInterval.set(c.intervalMs, [...(byInterval.get(c.intervalMs) ?? []), c.name]);
    for (const [ms, names] of byInterval) this.every(ms, () => void this.runCheck(...names));
    if (this.checks.some((c) => c.observe)) this.every(this.o.bg.monitoring.sample_interval * 1000, () => this.observe());
    // Host CPU, memory and disks change slowly: at most every 10 s.
    this.every(Math.max(this.o.bg.monitoring.check_interval, 10) * 1000, () => this.measureSystem());
    this.o.source.on?.('message', this.onMessage);
    this.o.source.on?.('agentExit', this.onExit);
  }

  /** Stops the timers and waits for rounds in flight. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.heartbeats?.stop();
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.o.source.off?.('message', this.onMessage);
    this.o.source.off?.('agentExit', this.onExit);
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** The checker's clock (epoch ms). */
  now(): number {
    return this.clockNow();
  }

  /** Every target's health after the latest rounds. */
  targets(): TargetHealth[] {
    return this.book.targets();
  }

  system(): SystemSnapshot {
    return this.book.system();
  }

  /**
   * Runs one round of each named check over every target. Checks that answer at
   * once (everything but pings and network probes) share one recomputation of
   * the verdicts; a check that waits recomputes when it is done. A check whose
   * previous round is still running gets one more round after it.
   */
  runCheck(...names: CheckName[]): Promise<void> {
    if (this.stopped || this.o.source.ready === false) return Promise.resolve();
    const now = this.clockNow();
    const targets = targetsOf(this.o.source);
    const ctx = this.context(now);
    const waits: Promise<void>[] = [];
    const done: CheckName[] = [];
    for (const check of this.checks.filter((c) => names.includes(c.name))) {
      const name = check.name;
      const running = this.inFlight.get(name);
      if (running) {
        this.rerun.add(name);
        waits.push(running);
        continue;
      }
      const results = targets.map((t) => this.evaluate(check, t, ctx));
      if (!results.some((r) => r instanceof Promise)) {
        this.store(name, targets, results as CheckResult[], now);
        done.push(name);
        continue;
      }
      const round = Promise.all(results).then((rs) => {
        if (this.stopped) return;
        this.store(name, targets, rs, now);
        this.recompute(targetsOf(this.o.source), this.clockNow());
        this.emit('evaluated', name);
      }).finally(() => {
        this.inFlight.delete(name);
        if (this.rerun.delete(name)) void this.runCheck(name);
      });
      this.inFlight.set(name, round);
      waits.push(round);
    }
    if (done.length) {
      this.recompute(targets, now);
      for (const n of done) this.emit('evaluated', n);
    }
    return Promise.all(waits).then(() => undefined);
  }

  /** Feeds the latest resource samples to the checks that watch every sample. */
  observe(): void {
    if (this.o.source.ready === false) return;
    const targets = targetsOf(this.o.source);
    const ctx = this.context(this.clockNow());
    for (const t of targets) this.known.add(t.id);
    for (const c of this.checks) c.observe?.(targets, ctx);
    this.heartbeats?.sync(targets);
    // A process that started since the last sample: memory_leaks carries its predecessor's leak to it at once.
    const fresh = targets.some((t) => t.state === 'running' && this.seen.get(t.id) !== t.incarnation);
    for (const t of targets) if (t.state === 'running') this.seen.set(t.id, t.incarnation);
    if (fresh && this.checks.some((c) => c.name === 'memory_leaks')) void this.runCheck('memory_leaks');
  }

  /** Measures host resources and recomputes the system verdict. */
  measureSystem(): void {
    if (this.o.source.ready === false) return;
    this.book.measureHost();
    this.recompute(targetsOf(this.o.source), this.clockNow());
    this.emit('evaluated', 'system');
  }

  /**
   * Right after an agent exits: records "not running" for every replica that is
   * down, without waiting for the next agent_response round (or for its pings).
   */
  refreshLifecycle(): void {
    if (this.stopped || !this.checks.some((c) => c.name === 'agent_response')) return;
    const now = this.clockNow();
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

  /**
   * The heartbeat budget of `t` ran out (HeartbeatWatch): its agent_response verdict
   * becomes unhealthy now, not at the next ping round, unless that round already
   * found it so. The round that follows confirms or replaces it.
   */
  private heartbeatDue(check: AgentResponseCheck, t: Target): void {
    if (this.stopped) return;
    const now = this.clockNow();
    const byCheck = this.stored.get(t.id) ?? new Map<CheckName, StoredResult>();
    const prev = byCheck.get('agent_response');
    if (prev && prev.incarnation === t.incarnation && prev.status === 'unhealthy') return;
    const r = check.overdue(t, this.context(now));
    this.stored.set(t.id, byCheck.set('agent_response', { ...r, at: now, incarnation: t.incarnation }));
    this.recompute(targetsOf(this.o.source), now);
    this.emit('evaluated', 'agent_response');
    // The ping round confirms it and tells a blocked event loop from a stopped heartbeat timer.
    void this.runCheck('agent_response');
  }

  /** One evaluation; a check that throws yields a `skipped` result and a log line, never a failed round. */
  private evaluate(check: HealthCheck, t: Target, ctx: CheckContext): CheckResult | Promise<CheckResult> {
    const fail = (err: unknown): CheckResult => {
      const msg = (err as Error).message;
      this.o.logger?.error({ health_check: check.name, replica: t.id, err: msg }, `health check ${check.name} failed on ${t.id}: ${msg}`);
      return { status: 'skipped', summary: `check error: ${msg}`, findings: [] };
    };
    try {
      const r = check.evaluate(t, ctx);
      return r instanceof Promise ? r.catch(fail) : r;
    } catch (err) {
      return fail(err);
    }
  }

  private store(name: CheckName, targets: readonly Target[], results: readonly CheckResult[], at: number): void {
    targets.forEach((t, i) => {
      const byCheck = this.stored.get(t.id) ?? new Map<CheckName, StoredResult>();
      this.stored.set(t.id, byCheck.set(name, { ...(results[i] as CheckResult), at, incarnation: t.incarnation }));
    });
  }

  private recompute(targets: Target[], now: number): void {
    const live = new Set(targets.map((t) => t.id));
    for (const id of this.known) {
      if (live.has(id)) continue;
      this.stored.delete(id);
      this.book.drop(id);
      for (const c of this.checks) c.forget?.(id);
    }
    this.known = live;
    this.book.recompute(targets, this.stored, now);
  }

  private context(now: number): CheckContext {
    const procState = this.o.procState ?? ((pid: number) => readProcStat(pid)?.state);
    const sampleIntervalMs = this.o.bg.monitoring.sample_interval * 1000;
    const sampler = this.o.source.sampler;
    return {
      now, clock: this.clockNow, procState, sample: (pid) => sampler.get(pid), sampleIntervalMs,
      cpuPercentSince: sampler.cpuPercentSince ? (pid, since) => sampler.cpuPercentSince!(pid, since, sampleIntervalMs) : undefined,
    };
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, Math.max(10, ms));
    t.unref();
    this.timers.push(t);
  }
}
