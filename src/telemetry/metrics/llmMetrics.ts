import type { SupervisorEvents } from '../../supervisor/Supervisor.js';
import { counter, type AnyRegistry, type MetricGroup } from './define.js';
import type { SupervisorView } from './source.js';

/** `usage` keys of a claude-stream-json result → the `type` label of agentic_llm_tokens_total. */
export const TOKEN_TYPES = {
  input_tokens: 'input',
  output_tokens: 'output',
  cache_creation_input_tokens: 'cache_creation',
  cache_read_input_tokens: 'cache_read',
} as const;

const nonNegative = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/**
 * The LLM table of docs/metrics.md, from the supervisor's `llmUsage` events (the
 * result event of a finished run). Agents with the claude-stream-json adapter start
 * at 0, so `increase()` sees their first run.
 */
export function registerLlmMetrics(register: AnyRegistry, sup: SupervisorView): MetricGroup {
  const cost = counter(register, 'agentic_llm_cost_usd_total', 'total_cost_usd of finished LLM runs.', ['agent', 'role']);
  const tokens = counter(register, 'agentic_llm_tokens_total', 'Tokens of finished LLM runs by type: input, output, cache_creation, cache_read.', ['agent', 'role', 'type']);
  const turns = counter(register, 'agentic_llm_turns_total', 'num_turns of finished LLM runs.', ['agent', 'role']);

  const onUsage = (...[e]: SupervisorEvents['llmUsage']) => {
    const labels = { agent: e.agent, role: e.role };
    const usd = nonNegative(e.llm.total_cost_usd);
    if (usd !== undefined) cost.inc(labels, usd);
    const n = nonNegative(e.llm.num_turns);
    if (n !== undefined) turns.inc(labels, n);
    for (const [key, type] of Object.entries(TOKEN_TYPES)) {
      const count = nonNegative(e.llm.usage?.[key]);
      if (count !== undefined) tokens.inc({ ...labels, type }, count);
    }
  };
  sup.on('llmUsage', onUsage);
  return {
    seed() {
      for (const p of sup.perTask) {
        if (p.config.stdout_adapter !== 'claude-stream-json') continue;
        const labels = { agent: p.config.name, role: p.role };
        cost.inc(labels, 0);
        turns.inc(labels, 0);
        for (const type of Object.values(TOKEN_TYPES)) tokens.inc({ ...labels, type }, 0);
      }
    },
    close: () => sup.off('llmUsage', onUsage),
  };
}
