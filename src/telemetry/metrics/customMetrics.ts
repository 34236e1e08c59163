import type { Metric } from 'prom-client';
import type { MetricKind, ResourceMetricsV1 } from '../../protocol/metricsPayload.js';
import type { SupervisorEvents } from '../../supervisor/Supervisor.js';
import { counter, type AnyRegistry, type MetricGroup } from './define.js';
import type { ScrapeSnapshot } from './ScrapeSnapshot.js';
import { ScrapeTimeFamily } from './ScrapeTimeFamily.js';
import type { SlotMap } from './slots.js';
import type { SlotLabels, SupervisorView } from './source.js';
import { cumulative, HistogramFamily, type Series } from './customHistogram.js';
import { attributeLabels, claimsOf, promName, RESERVED_PREFIX } from './customMetricNames.js';

export { promLabel, promName } from './customMetricNames.js';

/** Bounds on what agents can add to /metrics (docs/metrics.md, "Custom agent metrics"). */
export interface CustomMetricsLimits {
  /** Series one process (slot) may export; a histogram's attribute set is one series. Default 500. */
  seriesPerSlot: number;
  /** Series all agents together may export. Default 10,000. */
  seriesTotal: number;
}
export const CUSTOM_METRICS_LIMITS: Readonly<CustomMetricsLimits> = Object.freeze({ seriesPerSlot: 500, seriesTotal: 10_000 });

/** Why a metric of an agent was refused: counted in agentic_protocol_errors_total{reason}. */
export type CustomMetricRefusal = 'metrics_reserved_name' | 'metrics_type_conflict';
/** Why series were left out: the reason label of agentic_custom_metrics_dropped_series_total. */
export type DroppedSeriesReason = 'slot_limit' | 'total_limit' | 'duplicate' | 'line_size';

interface Family {
  readonly kind: MetricKind;
  /** The registered name (a counter's ends in `_total`). */
  readonly name: string;
  readonly claims: readonly string[];
  readonly holders: Map<string, Series[]>;
  readonly metric: object;
}

interface SlotState {
  readonly agent: string;
  readonly count: number;
  readonly families: Map<Family, Series[]>;
}

export interface CustomMetricsProblem {
  agent: string;
  slot: string;
  /** `error`: the supervisor failed to use a message (a bug; the previous snapshot stays). */
  reason: CustomMetricRefusal | DroppedSeriesReason | 'error';
  /** The metric's name as the agent sent it, when one metric is concerned. */
  metric?: string | undefined;
  detail: string;
}

export interface CustomMetricsHooks {
  /** Counts a refused metric in agentic_protocol_errors_total{agent, reason}. */
  protocolError(agent: string, reason: CustomMetricRefusal): void;
  /** Called the first time a slot has a given problem with a given metric (for a log line). */
  problem?(p: CustomMetricsProblem): void;
}

/**
 * Agents' own OpenTelemetry metrics (protocol `metrics` messages) on the
 * supervisor's /metrics, with the `agent`, `role` and `replica` labels of the
 * process that sent them. The latest snapshot of each process (slot) is kept and
 * read when scraped; it is dropped when the process exits, so a restarted agent's
 * counters start again (a counter reset, which rate() handles).
 *
 * Each metric name is one family, registered on the registry while some process
 * reports it. Its type and help are those of the first process that reported it;
 * a process reporting the same name with another type, or a name the supervisor
 * uses (the `agentic_` prefix, or a family already on the registry), is refused
 * and counted in agentic_protocol_errors_total. Series beyond the limits are
 * dropped and counted in agentic_custom_metrics_dropped_series_total.
 */
export class CustomMetrics implements MetricGroup {
  private readonly families = new Map<string, Family>();
  /** Sample name → the family that writes it. */
  private readonly claims = new Map<string, Family>();
  private readonly bySlot = new Map<string, SlotState>();
  private readonly ours = new WeakSet<object>();
  private readonly dropped;
  private readonly reported = new Set<string>();
  private total = 0;
  private sweptAt = 0;
  private readonly labelsNow: () => Map<string, SlotLabels | undefined>;
  private readonly onMessage = (...[e]: SupervisorEvents['message']): void => {
    if (e.message.type !== 'metrics') return;
    try {
      this.ingest(e.agent, e.slot, e.message.resource_metrics);
    } catch (err) {
      // A bug here must not reach the supervisor's protocol handling: keep the previous snapshot.
      this.report({ agent: e.agent, slot: e.slot, reason: 'error', detail: `could not use a metrics message: ${(err as Error).message}` });
    }
  };
  private readonly onExit = (...[e]: SupervisorEvents['agentExit']): void => this.drop(e.slot);

  constructor(
    private readonly register: AnyRegistry,
    private readonly sup: SupervisorView,
    private readonly slots: Pick<SlotMap, 'resolve'>,
    snapshot: ScrapeSnapshot,
    private readonly hooks: CustomMetricsHooks,
    private readonly limits: Readonly<CustomMetricsLimits> = CUSTOM_METRICS_LIMITS,
  ) {
    this.dropped = counter(register, 'agentic_custom_metrics_dropped_series_total', 'Series of agents\' own metrics left out, by reason: slot_limit, total_limit, duplicate, line_size.', ['agent', 'reason']);
    this.labelsNow = snapshot.memo(() => new Map());
    sup.on('message', this.onMessage);
    sup.on('agentExit', this.onExit);
  }

  /** Series stored now, over every slot. */
  get seriesCount(): number {
    return this.total;
  }

  /**
   * Replaces the snapshot of `slot` (a service replica id, or `<agent>:<task id>`)
   * with `payload`. Ignored when the slot does not exist (any more).
   */
  ingest(agent: string, slot: string, payload: ResourceMetricsV1): void {
    this.sweep();
    if (!this.slots.resolve(slot)) return;
    const prev = this.bySlot.get(slot);
    const othersCount = this.total - (prev?.count ?? 0);
    const budget = Math.max(0, Math.min(this.limits.seriesPerSlot, this.limits.seriesTotal - othersCount));
    const families = new Map<Family, Series[]>();
    const keys = new Map<Family, Set<string>>();
    const drops: Record<DroppedSeriesReason, number> = { slot_limit: 0, total_limit: 0, duplicate: 0, line_size: payload.dropped_series ?? 0 };
    let count = 0;
    for (const scope of payload.scope_metrics) {
      for (const m of scope.metrics) {
        if (m.points.length === 0) continue;
        const family = this.familyFor(agent, slot, m.name, m.kind, m.description);
        if (!family) continue;
        const list = families.get(family) ?? [];
        const seen = keys.get(family) ?? new Set<string>();
        const before = new Map((prev?.families.get(family) ?? []).map((s) => [s.key, s.labels]));
        for (const p of m.points) {
          const { key, labels } = attributeLabels(p.attributes, before);
          if (seen.has(key)) {
            drops.duplicate++;
            continue;
          }
          if (count >= budget) {
            drops[count >= this.limits.seriesPerSlot ? 'slot_limit' : 'total_limit']++;
            continue;
          }
          seen.add(key);
          count++;
          list.push('buckets' in p ? { key, labels, value: p.count, hist: cumulative(p) } : { key, labels, value: p.value });
        }
        families.set(family, list);
        keys.set(family, seen);
      }
    }
    for (const [family, list] of families) if (list.length) family.holders.set(slot, list);
    for (const family of prev?.families.keys() ?? []) if (!families.get(family)?.length) family.holders.delete(slot);
    this.bySlot.set(slot, { agent, count, families });
    this.total = othersCount + count;
    for (const family of [...families.keys(), ...(prev?.families.keys() ?? [])]) this.release(family);
    for (const [reason, n] of Object.entries(drops) as [DroppedSeriesReason, number][]) {
      if (n <= 0) continue;
      this.dropped.inc({ agent, reason }, n);
      this.report({ agent, slot, reason, detail: `${n} series left out (${reason.replace('_', ' ')})` });
    }
  }

  /** Forgets the snapshot of `slot` (its process exited). */
  drop(slot: string): void {
    const state = this.bySlot.get(slot);
    if (!state) return;
    this.bySlot.delete(slot);
    this.total -= state.count;
    for (const family of state.families.keys()) {
      family.holders.delete(slot);
      this.release(family);
    }
    for (const k of this.reported) if (k.startsWith(`${slot}\u0000`)) this.reported.delete(k);
  }

  seed(): void {
    // nothing starts at 0: series appear with the agents' snapshots
  }

  close(): void {
    this.sup.off('message', this.onMessage);
    this.sup.off('agentExit', this.onExit);
  }

  /** The family for a metric of `slot`, created (and registered) if new; undefined when refused. */
  private familyFor(agent: string, slot: string, otelName: string, kind: MetricKind, description: string | undefined): Family | undefined {
    const base = promName(otelName);
    if (base.toLowerCase().startsWith(RESERVED_PREFIX)) {
      this.refuse(agent, slot, 'metrics_reserved_name', otelName, `${otelName}: the ${RESERVED_PREFIX} prefix is reserved for the supervisor's metrics`);
      return undefined;
    }
    const name = kind === 'counter' && !base.endsWith('_total') ? `${base}_total` : base;
    const known = this.claims.get(name);
    if (known) {
      if (known.kind === kind && known.name === name) return known;
      this.refuse(agent, slot, 'metrics_type_conflict', otelName, `${otelName}: ${name} is already exported as a ${known.kind} (${known.name}); this ${kind} is refused`);
      return undefined;
    }
    const claims = claimsOf(kind, name);
    const clash = claims.map((c) => this.claims.get(c)).find((f) => f !== undefined);
    if (clash) {
      this.refuse(agent, slot, 'metrics_type_conflict', otelName, `${otelName}: the ${kind} ${name} would clash with the ${clash.kind} ${clash.name} already exported`);
      return undefined;
    }
    const theirs = this.supervisorClaims();
    if (claims.some((c) => theirs.has(c))) {
      this.refuse(agent, slot, 'metrics_reserved_name', otelName, `${otelName}: ${name} clashes with a metric of the supervisor`);
      return undefined;
    }
    // One line of text, whatever the agent sent (control characters and line breaks become spaces).
    const help = description?.replace(/[\s\p{Cc}]+/gu, ' ').trim() || `Agent metric ${otelName} (no description).`;
    const holders = new Map<string, Series[]>();
    const each = (fn: (slot: SlotLabels, s: Series) => void): void => {
      for (const [id, list] of holders) {
        const labels = this.labelsOf(id);
        if (labels) for (const s of list) fn(labels, s);
      }
    };
    const metric = kind === 'histogram'
      ? new HistogramFamily(name, help, each)
      : new ScrapeTimeFamily(name, help, kind, [], (emit) => each((labels, s) => emit(labels, s.value, s.labels)));
    const family: Family = { kind, name, claims, holders, metric };
    this.register.registerMetric(metric as unknown as Metric);
    this.ours.add(metric);
    this.families.set(name, family);
    for (const c of claims) this.claims.set(c, family);
    return family;
  }

  /** Unregisters a family no process reports any more (its type and help are free again). */
  private release(family: Family): void {
    if (family.holders.size > 0 || this.families.get(family.name) !== family) return;
    this.families.delete(family.name);
    for (const c of family.claims) if (this.claims.get(c) === family) this.claims.delete(c);
    if (this.register.getSingleMetric(family.name) === family.metric) this.register.removeSingleMetric(family.name);
  }

  /** Sample names of every metric on the registry that is not an agent's. */
  private supervisorClaims(): Set<string> {
    const out = new Set<string>();
    for (const m of this.register.getMetricsAsArray() as unknown as { name: string; type: string }[]) {
      if (!this.ours.has(m)) for (const c of claimsOf(String(m.type), m.name)) out.add(c);
    }
    return out;
  }

  /** A slot's labels now (once per scrape); undefined for a process that is gone. */
  private labelsOf(slot: string): SlotLabels | undefined {
    const cache = this.labelsNow();
    if (!cache.has(slot)) cache.set(slot, this.slots.resolve(slot));
    return cache.get(slot);
  }

  /** Drops the snapshots of processes that are gone without an agentExit (per_task processes), at most once a second. */
  private sweep(): void {
    const now = Date.now();
    if (now - this.sweptAt < 1000) return;
    this.sweptAt = now;
    for (const slot of this.bySlot.keys()) if (!this.slots.resolve(slot)) this.drop(slot);
  }

  private refuse(agent: string, slot: string, reason: CustomMetricRefusal, metric: string, detail: string): void {
    this.hooks.protocolError(agent, reason);
    this.report({ agent, slot, reason, metric, detail });
  }

  /** Tells the hook once per slot, problem and metric (a process repeats its snapshot every few seconds). */
  private report(p: CustomMetricsProblem): void {
    const key = `${p.slot}\u0000${p.reason}\u0000${p.metric ?? ''}`;
    if (this.reported.has(key) || this.reported.size >= 10_000) return;
    this.reported.add(key);
    this.hooks.problem?.(p);
  }
}
