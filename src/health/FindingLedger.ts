import type { Finding } from './types.js';

/** A finding with the time it was first seen (it keeps that time while it persists). */
export interface DetectedFinding extends Finding {
  /** Epoch ms of the round that first reported it. */
  detected_at: number;
}

export interface LedgerChange {
  /** Every current finding of the scope, with its detection time. */
  current: DetectedFinding[];
  /** New findings, and findings whose severity changed. */
  raised: DetectedFinding[];
  /** Findings that are gone. */
  resolved: DetectedFinding[];
}

/** Identity of a finding across rounds: agent_response has one problem at a time, whatever it is called. */
export const findingKey = (f: Finding): string =>
  [f.check, f.check === 'agent_response' ? '' : f.kind, f.dependency ?? '', f.subject ?? ''].join('\u0000');

/**
 * Remembers the findings of each scope (a target id, or `system`) from one
 * round to the next, so a persisting finding keeps its detection time and only
 * changes become events and log lines.
 */
export class FindingLedger {
  private readonly scopes = new Map<string, Map<string, DetectedFinding>>();

  update(scope: string, findings: readonly Finding[], now: number): LedgerChange {
    const prev = this.scopes.get(scope) ?? new Map<string, DetectedFinding>();
    const next = new Map<string, DetectedFinding>();
    const raised: DetectedFinding[] = [];
    for (const f of findings) {
      const key = findingKey(f);
      if (next.has(key)) continue;
      const old = prev.get(key);
      const detected = old?.detected_at ?? now;
      const d: DetectedFinding = { ...f, since: Math.min(f.since, detected), detected_at: detected };
      next.set(key, d);
      if (!old || old.severity !== f.severity) raised.push(d);
    }
    const resolved = [...prev].filter(([k]) => !next.has(k)).map(([, f]) => f);
    if (next.size) this.scopes.set(scope, next);
    else this.scopes.delete(scope);
    return { current: [...next.values()], raised, resolved };
  }

  /** Forgets a scope (its target is gone). */
  drop(scope: string): void {
    this.scopes.delete(scope);
  }
}
