import { dur } from './format.js';
import { resultOf, worst, type CheckResult, type Finding, type Verdict } from './types.js';

/** The connectivity result of one target, as input to the fold. */
export interface ConnectivityOf {
  id: string;
  result: CheckResult;
}

/**
 * Folds a dependency that fails for two or more targets into one system
 * finding: one outage of a shared dependency, not N failing agents. The
 * targets' connectivity results lose those findings (their summary points to the
 * system finding), so their verdicts and metrics do not count the outage.
 * Returns the rewritten results by target id and the system findings.
 */
export function foldSharedOutages(results: readonly ConnectivityOf[], now: number): { results: Map<string, CheckResult>; findings: Finding[] } {
  const byDep = new Map<string, { id: string; f: Finding }[]>();
  for (const { id, result } of results) {
    for (const f of result.findings) {
      if (f.dependency === undefined) continue;
      const list = byDep.get(f.dependency) ?? [];
      byDep.set(f.dependency, [...list, { id, f }]);
    }
  }
  const shared = new Set([...byDep].filter(([, list]) => new Set(list.map((x) => x.id)).size >= 2).map(([dep]) => dep));
  const out = new Map<string, CheckResult>();
  for (const { id, result } of results) {
    const mine = result.findings.filter((f) => f.dependency !== undefined && shared.has(f.dependency));
    if (!mine.length) { out.set(id, result); continue; }
    const rest = result.findings.filter((f) => !mine.includes(f));
    const note = `${[...new Set(mine.map((f) => f.dependency))].join(', ')}: shared outage (see system)`;
    out.set(id, resultOf(`${result.summary}; ${note}`, rest, result.measurements));
  }
  const findings: Finding[] = [];
  for (const dep of shared) {
    const list = byDep.get(dep) ?? [];
    const ids = [...new Set(list.map((x) => x.id))].sort();
    const severity = list.reduce<Verdict>((v, x) => worst(v, x.f.severity), 'degraded') as Finding['severity'];
    const since = Math.min(...list.map((x) => x.f.since));
    const detail = list[0]?.f.value;
    findings.push({
      check: 'system', kind: 'shared_outage', severity, value: ids.length, threshold: 2, unit: 'count', since, dependency: dep, restart: false,
      message: `system: ${dep} is unreachable from ${ids.length} agents (${ids.join(', ')}) for ${dur(now - since)}${typeof detail === 'string' ? `: ${detail}` : ''} — one shared dependency outage, not ${ids.length} agent faults; no agent is restarted for it`,
    });
  }
  return { results: out, findings };
}
