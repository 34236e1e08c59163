import type { AgentConfig, BackgroundConfig } from '../config/schema.js';
import { secondsText, type RunState, type StopReason } from './PerTaskRunState.js';

/** The limits a per_task run is held to, in ms (undefined: no such limit). */
export interface RunLimits {
  /** Longest a run may take from its start. */
  readonly taskTimeoutMs: number | undefined;
  /** The config key `taskTimeoutMs` came from, for messages. */
  readonly taskTimeoutKey: 'task_timeout' | 'max_task_duration';
  /** Longest a run may print nothing (no stdout, stderr or protocol line). */
  readonly staleMs: number | undefined;
  /** Longest a run may stay alive after printing its `result`. */
  readonly resultGraceMs: number;
}

/** What the policy says about a run at a moment. */
export type RunDecision =
  /** Nothing to do before `until` (epoch ms); ask again then. */
  | { action: 'wait'; until: number }
  /** No deadline applies (the run is stopping or over, or has no limits). */
  | { action: 'none' }
  /** End the run now, for this reason. */
  | { action: 'stop'; reason: StopReason };

/** What the policy reads of a run. */
export interface RunView {
  readonly state: RunState;
  readonly startedAt: number;
  /** Epoch ms of the last stdout/stderr/protocol line, or the start. */
  readonly lastOutputAt: number;
}

/**
 * Decides when a per_task run has gone on too long. The run only reports (its
 * state, its start and its last output); this policy turns the config into
 * deadlines, the same thresholds the task_progress health check judges by:
 * - `task_timeout` of the agent, else `task_progress.max_task_duration`: the run is
 *   killed that long after it started (cause `timeout`);
 * - `task_progress.stale_task_threshold`: killed after printing nothing that long
 *   (cause `stalled`);
 * - `result_grace` of the agent: a run that printed its `result` and is still alive
 *   that long after is killed, and its task completes with the result.
 * The two task_progress thresholds act only while that check is enabled (health and
 * action stay one rule); an agent's own `task_timeout` always acts.
 */
export class RunPolicy {
  constructor(readonly limits: RunLimits) {}

  static fromConfig(agent: AgentConfig, bg: Pick<BackgroundConfig, 'monitoring'>): RunPolicy {
    const tp = bg.monitoring.health_checks.task_progress;
    const judged = bg.monitoring.enabled && tp.enabled;
    const own = agent.task_timeout;
    return new RunPolicy({
      taskTimeoutMs: own !== undefined ? own * 1000 : judged ? tp.max_task_duration * 1000 : undefined,
      taskTimeoutKey: own !== undefined ? 'task_timeout' : 'max_task_duration',
      staleMs: judged ? tp.stale_task_threshold * 1000 : undefined,
      resultGraceMs: agent.result_grace * 1000,
    });
  }

  decide(run: RunView, now: number): RunDecision {
    const s = run.state;
    const l = this.limits;
    if (s.kind === 'result_seen') {
      const at = s.since + l.resultGraceMs;
      return now >= at
        ? { action: 'stop', reason: { cause: 'result_linger', detail: `printed its result and had not exited ${secondsText(now - s.since)} later (result_grace ${secondsText(l.resultGraceMs)})` } }
        : { action: 'wait', until: at };
    }
    if (s.kind !== 'spawned' && s.kind !== 'streaming') return { action: 'none' };
    const timeoutAt = l.taskTimeoutMs === undefined ? Infinity : run.startedAt + l.taskTimeoutMs;
    const staleAt = l.staleMs === undefined ? Infinity : run.lastOutputAt + l.staleMs;
    // When both have passed (a late timer), the one that passed first is the reason.
    if (now >= timeoutAt && timeoutAt <= staleAt) {
      return { action: 'stop', reason: { cause: 'timeout', detail: `timed out after ${secondsText(l.taskTimeoutMs as number)} (${l.taskTimeoutKey})` } };
    }
    if (now >= staleAt) {
      return { action: 'stop', reason: { cause: 'stalled', detail: `no output for ${secondsText(now - run.lastOutputAt)} (stale_task_threshold ${secondsText(l.staleMs as number)})` } };
    }
    const until = Math.min(timeoutAt, staleAt);
    return until === Infinity ? { action: 'none' } : { action: 'wait', until };
  }
}
