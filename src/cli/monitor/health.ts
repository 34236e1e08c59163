import { exitSummary } from './agentState.js';
import type { AgentHealth, AgentStatus, Finding, HealthView, StatusBody, Verdict } from './model.js';

const VERDICTS: readonly Verdict[] = ['healthy', 'degraded', 'unhealthy'];
const RANK: Record<Verdict, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function asVerdict(v: unknown): Verdict | undefined {
  if (typeof v === 'number' && v >= 0 && v <= 2) return VERDICTS[Math.round(v)];
  const s = str(v)?.toLowerCase();
  return VERDICTS.find((x) => x === s);
}

export const worst = (a: Verdict, b: Verdict): Verdict => (RANK[b] > RANK[a] ? b : a);

/** Up means the replica can take work: a live process, or an idle per_task role. */
export const isUp = (a: AgentStatus): boolean => ['starting', 'running', 'stopping', 'idle'].includes(a.state);

/** A finding; its message loses a leading `qaa: ` (the row already names the agent). */
function normaliseFinding(f: unknown, names: readonly string[]): Finding | undefined {
  if (!isObj(f)) return undefined;
  let message = str(f.message) ?? str(f.text) ?? str(f.summary) ?? str(f.reason) ?? str(f.description);
  const prefix = names.find((n) => message?.startsWith(`${n}: `));
  if (message && prefix) message = message.slice(prefix.length + 2);
  const check = str(f.check) ?? str(f.name) ?? 'check';
  return { check, severity: asVerdict(f.severity) ?? asVerdict(f.verdict) ?? asVerdict(f.status) ?? str(f.severity) ?? 'degraded', message: message ?? check };
}

/**
 * Reads GET /api/v1/health tolerantly: a system verdict under `verdict`,
 * `status` or `system.verdict`, and agents as an array or a map, each with a
 * verdict and findings. Returns undefined when the body has no verdict.
 */
export function normaliseHealth(body: unknown): HealthView | undefined {
  if (!isObj(body)) return undefined;
  const sys = isObj(body.system) ? body.system : undefined;
  const verdict = asVerdict(body.verdict) ?? asVerdict(body.status) ?? asVerdict(sys?.verdict) ?? asVerdict(sys?.status);
  if (!verdict) return undefined;
  const agents = new Map<string, AgentHealth>();
  const list: [string | undefined, unknown][] = Array.isArray(body.agents)
    ? body.agents.map((a) => [undefined, a])
    : isObj(body.agents) ? Object.entries(body.agents) : [];
  for (const [key, raw] of list) {
    if (!isObj(raw)) continue;
    const names = [str(raw.replica), str(raw.agent), key].filter((n): n is string => n !== undefined);
    const findings = (Array.isArray(raw.findings) ? raw.findings : []).map((f) => normaliseFinding(f, names)).filter((f): f is Finding => f !== undefined);
    const h: AgentHealth = { verdict: asVerdict(raw.verdict) ?? asVerdict(raw.status) ?? 'healthy', findings };
    for (const id of [key, str(raw.replica), str(raw.id), str(raw.agent)]) {
      if (!id) continue;
      const prev = agents.get(id);
      agents.set(id, prev ? { verdict: worst(prev.verdict, h.verdict), findings: [...prev.findings, ...h.findings] } : h);
    }
  }
  return { verdict, agents, source: 'endpoint' };
}

/**
 * The health the monitor shows when the supervisor has no health endpoint:
 * unhealthy when a role has no replica up (unless all of it was stopped on
 * purpose), degraded when some replica is restarting, failed or held open.
 */
export function deriveHealth(status: StatusBody): HealthView {
  const agents = new Map<string, AgentHealth>();
  const roles = new Map<string, { up: number; stopped: number; total: number }>();
  let verdict: Verdict = 'healthy';
  for (const a of status.agents) {
    const r = roles.get(a.role) ?? { up: 0, stopped: 0, total: 0 };
    r.total++;
    if (isUp(a)) r.up++;
    if (a.state === 'stopped') r.stopped++;
    roles.set(a.role, r);
    const v: Verdict = a.state === 'failed' || a.state === 'circuit_open' ? 'unhealthy' : a.state === 'backoff' ? 'degraded' : 'healthy';
    const findings: Finding[] = v === 'healthy' ? [] : [{ check: 'lifecycle', severity: v, message: a.last_exit ? `last exit: ${exitSummary(a.last_exit)}` : a.state }];
    agents.set(a.replica, { verdict: v, findings });
    if (v !== 'healthy') verdict = worst(verdict, 'degraded');
  }
  for (const r of roles.values()) if (r.up === 0 && r.stopped < r.total) verdict = 'unhealthy';
  return { verdict, agents, source: 'derived' };
}

/** The health of one row: by replica id first, then by agent name. */
export function healthOf(view: HealthView | undefined, a: AgentStatus): AgentHealth | undefined {
  return view?.agents.get(a.replica) ?? view?.agents.get(a.agent);
}
