import { RunSpans } from '../../telemetry/runSpans.js';
import type { Wiring } from '../extensions.js';

/**
 * Traces of per_task runs: a `task.run` span per run, child of its dispatch span,
 * from the supervisor's run events (see src/telemetry/runSpans.ts). The run metrics
 * are part of the metrics registry (src/telemetry/metrics/runMetrics.ts).
 */
export const wireRuns: Wiring = async ({ sup }) => {
  const spans = new RunSpans(sup, sup.tracer);
  return () => spans.close();
};
