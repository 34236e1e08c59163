/**
 * The `resource_metrics` of a protocol `metrics` message, version 1: an agent's
 * own OpenTelemetry metrics in a compact shape of our own (not OTLP, not the OTel
 * SDK's internals). The spec is docs/protocol.md ("The metrics message"); the zod
 * schema that validates it is in messages.ts. This module has no dependencies, so
 * the SDK can use its types and limits without loading zod.
 *
 * ```json
 * {"type":"metrics","resource_metrics":{"version":1,"scope_metrics":[{"scope":{"name":"demo"},"metrics":[
 *   {"name":"items_processed","description":"Items processed.","kind":"counter","points":[{"attributes":{"kind":"story"},"value":42}]},
 *   {"name":"step_duration_seconds","kind":"histogram","points":[{"count":3,"sum":1.5,"buckets":{"boundaries":[0.5,1],"counts":[2,1,0]}}]}
 * ]}]}}
 * ```
 *
 * Values are cumulative since the process started: a counter's `value` and a
 * histogram's `count`, `sum` and `counts` only grow while the process lives.
 */

export const METRICS_PAYLOAD_VERSION = 1;

/** Schema limits: a payload beyond them is invalid as a whole (the SDK keeps within them). */
export const METRICS_LIMITS = {
  /** Characters of a metric name (OTel allows 255). */
  nameChars: 255,
  descriptionChars: 1024,
  unitChars: 63,
  /** Attributes of one point. */
  attributes: 32,
  attributeKeyChars: 128,
  attributeValueChars: 1024,
  /** Explicit bucket boundaries of one histogram point (OTel's default has 15). */
  boundaries: 64,
} as const;

/** `counter`: a monotonic sum; `gauge`: a last value or a non-monotonic sum (up-down counter); `histogram`: explicit buckets. */
export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface NumberPointV1 {
  /** Omitted when empty. Values are strings (the SDK turns numbers, booleans and arrays into text). */
  attributes?: Record<string, string>;
  /** A counter's value is never negative. */
  value: number;
}

export interface HistogramPointV1 {
  attributes?: Record<string, string>;
  /** Number of observations; equals the sum of `buckets.counts`. */
  count: number;
  sum: number;
  /**
   * OTel's explicit buckets: `boundaries` are the finite, increasing, inclusive
   * upper bounds, and `counts` (one longer) the observations per bucket, not
   * cumulative; the last is above the last boundary.
   */
  buckets: { boundaries: number[]; counts: number[] };
}

interface MetricBase {
  /** The instrument's name, as recorded (the supervisor turns it into a Prometheus name). */
  name: string;
  description?: string;
  unit?: string;
}

export type MetricV1 =
  | (MetricBase & { kind: 'counter' | 'gauge'; points: NumberPointV1[] })
  | (MetricBase & { kind: 'histogram'; points: HistogramPointV1[] });

export interface ResourceMetricsV1 {
  version: 1;
  scope_metrics: { scope?: { name: string; version?: string }; metrics: MetricV1[] }[];
  /** Series the agent left out to keep the line under `max_line_bytes`. */
  dropped_series?: number;
}
