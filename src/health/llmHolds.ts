import type { Supervisor } from '../supervisor/Supervisor.js';
import type { Finding } from './types.js';

const at = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/**
 * System findings for roles the supervisor holds back on its own: a spent rolling LLM
 * budget (`llm_budget`) and the API's rate limit (`rate_limited`). Each is one finding
 * per role, not one per agent or run, and it is `degraded`: the agents are fine, their
 * tasks wait, and the hold ends by itself.
 */
export function llmHoldFindings(sup: Pick<Supervisor, 'budgetHolds' | 'roleBackoff'>, now: number): Finding[] {
  const out: Finding[] = [];
  for (const [role, h] of sup.budgetHolds) {
    if (h.freesAt <= now) continue;
    out.push({
      check: 'system', kind: 'llm_budget', subject: role, severity: 'degraded', value: Math.round(h.spentUsd * 100) / 100, threshold: h.limit.usd, unit: 'USD', since: now, restart: false,
      message: `system: role ${role} is held: ${h.text}; its tasks wait until about ${at(h.freesAt)} UTC`,
    });
  }
  for (const [role, until] of sup.roleBackoff.held(now)) {
    out.push({
      check: 'system', kind: 'rate_limited', subject: role, severity: 'degraded', value: Math.ceil((until - now) / 1000), threshold: null, unit: 's', since: now, restart: false,
      message: `system: role ${role} is held: the API is rate-limiting its runs; no new run before ${at(until)} UTC (llm.rate_limit_backoff)`,
    });
  }
  return out;
}
