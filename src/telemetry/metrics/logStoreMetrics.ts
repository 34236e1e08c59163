import type { StreamCounts } from '../LogStore.js';
import { labelOf, totalsCounter, type AnyRegistry } from './define.js';

/**
 * `agentic_log_lines_written_total{agent}` and `agentic_log_lines_dropped_total{agent}`
 * from the log store's running totals. Every agent in `agents` is present from 0,
 * so `increase()` sees the first drop; `agentNames` is read at every scrape when it is
 * a function (a reload adds and removes agents).
 */
export function registerLogStoreMetrics(register: AnyRegistry, store: { counts(): Map<string, StreamCounts> }, agentNames: readonly string[] | (() => readonly string[])): void {
  const agentLabel = labelOf('agent');
  const series = (): [string, StreamCounts][] => {
    const agents = typeof agentNames === 'function' ? agentNames() : agentNames;
    const counts = store.counts();
    const out: [string, StreamCounts][] = agents.map((a) => [a, counts.get(a) ?? { written: 0, dropped: 0 }]);
    // Streams written through the store that are not configured agents (none today):
    // shown once they have a line, so the supervisor's own stream (written by its logger) is not.
    for (const [name, c] of counts) if (!agents.includes(name) && c.written + c.dropped > 0) out.push([name, c]);
    return out;
  };
  totalsCounter(register, 'agentic_log_lines_written_total', 'Lines of agent output the central log store wrote to its files, by agent.', ['agent'], (emit) => {
    for (const [name, c] of series()) emit(agentLabel(name), c.written);
  });
  totalsCounter(register, 'agentic_log_lines_dropped_total', 'Lines of agent output the central log store dropped, by agent: more than 8 MiB waiting for the disk, or a write error.', ['agent'], (emit) => {
    for (const [name, c] of series()) emit(agentLabel(name), c.dropped);
  });
}
