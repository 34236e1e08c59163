import { SHARED_RATE_LIMIT_ROLES } from '../supervisor/RoleBackoff.js';
import type { Supervisor } from '../supervisor/Supervisor.js';
import { dur } from './format.js';
import type { Finding } from './types.js';

const at = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/**
 * System findings for roles the supervisor holds back on its own: a spent rolling LLM
 * budget (`llm_budget`) and the API's rate limit (`rate_limited`). Each is one finding
 * per role, not one per agent or run, and it is `degraded`: the agents are fine, their
 * tasks wait, and the hold ends by itself. When two or more roles are rate-limited at
 * once, the provider is limiting the account: that is one `shared_rate_limit` finding
 * for the fleet, in place of the roles' `rate_limited` findings (as a shared outage
 * replaces its agents' connectivity findings).
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
  const shared = sup.roleBackoff.shared(now);
  if (shared) {
    const roles = shared.map((h) => h.role);
    const since = Math.min(...shared.map((h) => h.since));
    const until = Math.max(...shared.map((h) => h.until));
    out.push({
      check: 'system', kind: 'shared_rate_limit', severity: 'degraded', value: roles.length, threshold: SHARED_RATE_LIMIT_ROLES, unit: 'count', since, restart: false,
      message: `system: the LLM API is rate-limiting ${roles.length} roles at once (${roles.join(', ')}) for ${dur(now - since)} — the provider is limiting the account, not one role; each role backs off (llm.rate_limit_backoff), the last until about ${at(until)} UTC, and their tasks wait`,
    });
    return out;
  }
  for (const h of sup.roleBackoff.holds(now)) {
    out.push({
      check: 'system', kind: 'rate_limited', subject: h.role, severity: 'degraded', value: Math.ceil((h.until - now) / 1000), threshold: null, unit: 's', since: h.since, restart: false,
      message: `system: role ${h.role} is held: the API is rate-limiting its runs; no new run before ${at(h.until)} UTC (llm.rate_limit_backoff)`,
    });
  }
  return out;
}
