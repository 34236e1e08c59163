import type { AgentConfig, BackgroundConfig } from '../config/schema.js';
import type { TaskLimits } from '../queue/Task.js';
import { TaskLimitsError } from './errors.js';
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

/**
 * Why the task's own limits (`max_turns`, `max_cost_usd`) could not be held by every
 * agent of its role, or undefined when they can: only a per_task agent with a stdout
 * adapter reports turns and cost. Any agent of the role may get the task, so all must.
 */
export function unenforceableLimits(bg: Pick<BackgroundConfig, 'agents'>, input: TaskLimits & { role: string }): TaskLimitsError | undefined {
  const set = (['max_turns', 'max_cost_usd'] as const).filter((k) => input[k] !== undefined);
  if (!set.length) return undefined;
  for (const a of bg.agents) {
    if ((a.role ?? a.name) !== input.role) continue;
    const why = blindTo(a);
    if (why) return new TaskLimitsError(`agent ${a.name} of role ${input.role} ${why}: the supervisor does not see its turns or cost, so it cannot hold a task to ${set.join(' and ')}. Submit without them, or give the role per_task agents with stdout_adapter claude-stream-json.`);
  }
  return undefined;
}

const blindTo = (a: AgentConfig): string | undefined => (a.mode === 'service' ? 'is a service agent' : a.stdout_adapter === 'none' ? 'has stdout_adapter none' : undefined);
