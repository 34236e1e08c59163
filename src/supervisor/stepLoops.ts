import type { AgentMessage } from '../protocol/messages.js';
import type { StopReason } from './PerTaskRunState.js';
import { RunGuard, type GuardLimits } from './RunGuard.js';
import { stepEvents } from './stepEvents.js';

type TaskStep = Extract<AgentMessage, { type: 'task.step' }>;

/**
 * Tool-loop detection for service replicas: one {@link RunGuard} (loop only) per
 * assignment of a task, fed with the `task.step` messages of the replica that holds it.
 * Keyed by the assignment object, so a retried task starts with a clean window and a
 * finished one is forgotten with it.
 */
export class StepLoops {
  private readonly guards = new WeakMap<object, RunGuard>();

  /** @param loop `health_checks.llm_progress` as guard limits; undefined: off (steps are ignored). */
  constructor(private readonly loop: GuardLimits['loop']) {}

  /** Whether agents should report their steps (`welcome.settings.task_steps`). */
  get watching(): boolean {
    return this.loop !== undefined;
  }

  /** Feeds one step of the assignment `holder`; returns why its task must end, once, when the steps make a loop. */
  onStep(holder: object, m: TaskStep, now: number): StopReason | undefined {
    if (!this.loop) return undefined;
    let guard = this.guards.get(holder);
    if (!guard) {
      guard = new RunGuard({ maxTurns: undefined, maxCostUsd: undefined, loop: this.loop, pricing: [] });
      this.guards.set(holder, guard);
    }
    for (const ev of stepEvents(m)) {
      const stop = guard.onEvent(ev, now);
      if (stop) return stop;
    }
    return undefined;
  }
}
