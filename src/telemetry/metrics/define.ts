import { Counter, type LabelValues, type Metric, type OpenMetricsContentType, type PrometheusContentType, type Registry } from 'prom-client';
import { ScrapeTimeFamily, type Emit, type Labels } from './ScrapeTimeFamily.js';

export type { Emit, Labels };

/**
 * A group of metrics observing the supervisor. `seed` creates the series that
 * start at 0 (so `increase()` sees the first event) for the agents that exist now;
 * it is idempotent and runs again when agents appear (they are created by
 * `Supervisor.start()`, after the metrics are wired). `close` detaches listeners.
 */
export interface MetricGroup {
  seed(): void;
  /** Reads what its families show that must be awaited (the queue on PostgreSQL), once per scrape, before they render. */
  prepare?(): Promise<void>;
  close(): void;
}

/** A registry of either content type. */
export type AnyRegistry = Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;

function scrapeTime(register: AnyRegistry, name: string, help: string, type: 'gauge' | 'counter', labelNames: readonly string[], fill: (emit: Emit) => void): void {
  register.registerMetric(new ScrapeTimeFamily(name, help, type, labelNames, fill) as unknown as Metric);
}

/** A gauge read from current state at every scrape: `fill` emits every series that exists now. `labelNames` documents and validates them. */
export function stateGauge(register: AnyRegistry, name: string, help: string, labelNames: readonly string[], fill: (emit: Emit) => void): void {
  scrapeTime(register, name, help, 'gauge', labelNames, fill);
}

/**
 * A counter read from exact running totals kept elsewhere (e.g. a replica's
 * restart counts) at every scrape. The totals must only grow for the life of the
 * process, as a counter must.
 */
export function totalsCounter(register: AnyRegistry, name: string, help: string, labelNames: readonly string[], fill: (emit: Emit) => void): void {
  scrapeTime(register, name, help, 'counter', labelNames, fill);
}

/** Frozen label objects, one per value of a single label, created once: `labelOf('state')('running')`. */
export function labelOf(name: string): (value: string) => Labels {
  const cache = new Map<string, Labels>();
  return (value) => {
    let l = cache.get(value);
    if (!l) cache.set(value, (l = Object.freeze({ [name]: value })));
    return l;
  };
}

/** An event-driven counter. */
export function counter<L extends string>(register: AnyRegistry, name: string, help: string, labelNames: readonly L[], enableExemplars = false): Counter<L> {
  return new Counter<L>({ name, help, labelNames, registers: [register], enableExemplars });
}

/** Exemplar labels for a trace id, or undefined when there is none (no empty exemplar is rendered). */
export function traceExemplar(traceId: string | undefined): LabelValues<string> | undefined {
  return traceId && /^[0-9a-f]{32}$/.test(traceId) ? { trace_id: traceId } : undefined;
}
