import type { BackgroundConfig } from '../config/schema.js';
import type { PerTaskAgent } from './PerTaskAgent.js';
import type { ArgvTooLongError } from './spawnLimits.js';

/** A per_task agent named by an operator or an alert: all its runs, or the run in one slot. */
export interface PerTaskTarget {
  agent: PerTaskAgent;
  /** The slot index ("1" for `deva_ts-1`); undefined for the whole agent. */
  slot: string | undefined;
}

/** The per_task agent (and slot) `nameOrSlot` names: `deva_ts`, or `deva_ts-1` (agent names hold no `-`). */
export function perTaskTarget(perTask: readonly PerTaskAgent[], nameOrSlot: string): PerTaskTarget | undefined {
  const m = /^(.+)-(\d+)$/.exec(nameOrSlot);
  for (const p of perTask) {
    if (p.config.name === nameOrSlot) return { agent: p, slot: undefined };
    if (m && m[1] === p.config.name && Number(m[2]) < p.config.max_concurrent) return { agent: p, slot: String(Number(m[2])) };
  }
  return undefined;
}

/** The runs a target covers, as the API shows them. */
export function runsOf(t: PerTaskTarget): { replica: string; task_id: string }[] {
  return [...t.agent.runs.values()].filter((r) => t.slot === undefined || r.slot === t.slot).map((r) => ({ replica: r.slotId, task_id: r.task.id }));
}

/**
 * Why no agent of the task's role could spawn its command (a per_task argv over
 * the kernel's limits), or undefined when one can (a service agent always can: it
 * gets the task over the protocol).
 */
export function unspawnable(bg: Pick<BackgroundConfig, 'agents'>, perTask: readonly PerTaskAgent[], input: { role: string; title: string; prompt?: string | undefined; id?: string | undefined }): ArgvTooLongError | undefined {
  if (bg.agents.some((a) => (a.role ?? a.name) === input.role && a.mode === 'service')) return undefined;
  let first: ArgvTooLongError | undefined;
  for (const p of perTask) {
    if (p.role !== input.role) continue;
    const err = p.checkSpawnable({ id: input.id ?? 'task_000000000000', title: input.title, prompt: input.prompt ?? null });
    if (!err) return undefined;
    first ??= err;
  }
  return first;
}
