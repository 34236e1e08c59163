import type { DetectedFinding } from './FindingLedger.js';
import { foldSharedOutages } from './sharedOutages.js';
import type { SystemResourcesReport } from './systemResources.js';
import type { SystemHealth } from './systemVerdict.js';
import type { Target } from './Target.js';
import type { CheckName, CheckResult, Finding, Verdict } from './types.js';

/** A check's latest result on a target, with when and on which process it was taken. */
export type StoredResult = CheckResult & { at: number; incarnation: string | undefined };

/** One target's health after the latest round. */
export interface TargetHealth {
  target: Target;
  verdict: Verdict;
  findings: DetectedFinding[];
  checks: Partial<Record<CheckName, StoredResult>>;
}

/** The system's health after the latest round. */
export interface SystemSnapshot extends SystemHealth {
  findings: DetectedFinding[];
  resources: SystemResourcesReport | undefined;
  /** Epoch ms of the latest recomputation (0 before the first). */
  checked_at: number;
}

/**
 * A leak outlives the restart it caused (memoryLeaks.ts): until memory_leaks has
 * judged the new process, its last result on the old one stands; once a new process
 * runs, only if it asks for no restart (it must not be restarted for the old one's leak).
 */
const carriesOver = (name: CheckName, r: StoredResult, t: Target): boolean =>
  name === 'memory_leaks' && r.findings.length > 0 && (t.state !== 'running' || r.findings.every((f) => f.restart !== true));

/**
 * The results that describe each target's current process (a result taken on
 * an earlier incarnation, before a restart, no longer counts), with dependency
 * outages shared by several targets folded into system findings.
 */
export function currentResults(
  targets: readonly Target[],
  stored: ReadonlyMap<string, ReadonlyMap<CheckName, StoredResult>>,
  now: number,
): { current: Map<string, Map<CheckName, StoredResult>>; outages: Finding[] } {
  const current = new Map<string, Map<CheckName, StoredResult>>();
  for (const t of targets) {
    current.set(t.id, new Map([...(stored.get(t.id) ?? [])].filter(([name, r]) => r.incarnation === t.incarnation || carriesOver(name, r, t))));
  }
  const conn = [...current].flatMap(([id, m]) => {
    const r = m.get('connectivity');
    return r ? [{ id, result: r }] : [];
  });
  const folded = foldSharedOutages(conn, now);
  for (const [id, r] of folded.results) {
    const m = current.get(id);
    const prev = m?.get('connectivity');
    if (m && prev) m.set('connectivity', { ...r, at: prev.at, incarnation: prev.incarnation });
  }
  return { current, outages: folded.findings };
}
