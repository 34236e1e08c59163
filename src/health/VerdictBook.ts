import { currentResults, type StoredResult, type SystemSnapshot, type TargetHealth } from './aggregate.js';
import { FindingLedger } from './FindingLedger.js';
import type { HealthCheckerEvents, HealthCheckerSource } from './HealthCheckerOptions.js';
import { logFindings, type HealthLogger } from './logFindings.js';
import type { SystemResources } from './systemResources.js';
import { fleetLine } from '../supervisor/fleetCounts.js';
import { capacityOf, systemVerdict } from './systemVerdict.js';
import type { Target } from './Target.js';
import type { UnhealthyRestarter } from './UnhealthyRestarter.js';
import { worst, type CheckName, type Finding, type Verdict } from './types.js';

type Emit = <K extends keyof HealthCheckerEvents>(event: K, ...args: HealthCheckerEvents[K]) => void;

export interface VerdictBookOptions {
  source: HealthCheckerSource;
  emit: Emit;
  logger?: HealthLogger | undefined;
  system?: SystemResources | undefined;
  restarter?: UnhealthyRestarter | undefined;
  systemFindings?: ((now: number) => Finding[]) | undefined;
}

/**
 * The verdicts: from the latest check results, each target's findings (with
 * their detection times) and verdict, then the system's. Every change is logged,
 * emitted, and offered to the restarter.
 */
export class VerdictBook {
  private readonly ledger = new FindingLedger();
  private health = new Map<string, TargetHealth>();
  private sys: SystemSnapshot = { verdict: 'healthy', agents: { configured: 0, up: 0, down: [], stopped: [] }, replicas: { configured: 0, up: 0, stopped: 0 }, slots: { configured: 0, busy: 0 }, capacity: {}, findings: [], resources: undefined, checked_at: 0 };

  constructor(private readonly o: VerdictBookOptions) {}

  targets(): TargetHealth[] {
    return [...this.health.values()];
  }

  system(): SystemSnapshot {
    return this.sys;
  }

  /** Measures host resources (used by the next recomputation). */
  measureHost(): void {
    this.sys.resources = this.o.system?.measure();
  }

  /** A target that is gone: its findings go without events. */
  drop(id: string): void {
    this.ledger.drop(id);
  }

  recompute(targets: readonly Target[], stored: ReadonlyMap<string, ReadonlyMap<CheckName, StoredResult>>, now: number): void {
    const { emit, logger } = this.o;
    const { current, outages } = currentResults(targets, stored, now);
    const next = new Map<string, TargetHealth>();
    for (const t of targets) {
      const checks = current.get(t.id) ?? new Map<CheckName, StoredResult>();
      const change = this.ledger.update(t.id, [...checks.values()].flatMap((r) => r.findings), now);
      const verdict = change.current.reduce<Verdict>((v, f) => worst(v, f.severity), 'healthy');
      const previous = this.health.get(t.id)?.verdict ?? 'healthy';
      next.set(t.id, { target: t, verdict, findings: change.current, checks: Object.fromEntries(checks) });
      logFindings(logger, t, change);
      for (const f of change.raised) emit('finding', { target: t, finding: f });
      for (const f of change.resolved) emit('resolved', { target: t, finding: f });
      if (verdict !== previous) emit('verdict', { target: t, verdict, previous });
      this.o.restarter?.consider(t, change.current);
    }
    this.health = next;
    this.o.restarter?.prune(targets);
    const disks = this.sys.resources && this.o.system ? this.o.system.findings(this.sys.resources, now) : [];
    const sys = systemVerdict(capacityOf(this.o.source, (id) => next.get(id)?.verdict), [...next.values()].map((h) => h.verdict), [...outages, ...disks, ...(this.o.systemFindings?.(now) ?? [])], now);
    const change = this.ledger.update('system', sys.findings, now);
    logFindings(logger, undefined, change);
    for (const f of change.raised) emit('finding', { target: undefined, finding: f });
    for (const f of change.resolved) emit('resolved', { target: undefined, finding: f });
    const previous = this.sys.verdict;
    this.sys = { ...sys, findings: change.current, resources: this.sys.resources, checked_at: now };
    if (sys.verdict !== previous) {
      logger?.[sys.verdict === 'healthy' ? 'info' : 'warn']({ verdict: sys.verdict, previous }, `system health ${previous} → ${sys.verdict}: ${fleetLine(sys)}`);
      emit('system', { verdict: sys.verdict, previous, health: this.sys });
    }
  }
}
