import type { AdapterEvent } from './adapters/StdoutAdapter.js';
import type { ExitInfo } from './AgentProcess.js';

/** The `result` event a run's stdout adapter reported (Claude's final stream-json line). */
export type RunResult = Extract<AdapterEvent, { kind: 'result' }>;

/**
 * Why the supervisor ends a run before it exits by itself. The first three come
 * from the {@link RunPolicy} (timeouts); the others from an operator or the supervisor.
 */
export type StopCause =
  | 'timeout' // ran past task_timeout (or max_task_duration)
  | 'stalled' // printed nothing for stale_task_threshold
  | 'result_linger' // printed its result and did not exit within result_grace
  | 'budget_exceeded' // went over the agent's max_turns or max_cost_usd (RunGuard)
  | 'tool_loop' // repeated the same tool call with the same answer (RunGuard, llm_progress)
  | 'operator_restart' // `background restart` of the role or of the run's slot, or an alert restart
  | 'supervisor_stopped' // a graceful `background stop`
  | 'cancelled'; // the task was cancelled

export interface StopReason {
  cause: StopCause;
  /** The human reason, with the threshold: "timed out after 600 s (task_timeout)". */
  detail: string;
  /** For a failure the guard found: whether another attempt may help (a loop may; a spent budget does not). */
  retryable?: boolean | undefined;
}

/** What a run saw by the time it exited: the facts the outcome is decided from (see runOutcome). */
export interface RunEnding {
  exit: ExitInfo;
  /** Set when the supervisor ended the run (the first reason wins). */
  stop: StopReason | undefined;
  /** The run's `result` event, when its adapter saw one. */
  result: RunResult | undefined;
  /** The stop grace (stop_timeout) ran out and the process group got SIGKILL. */
  killed: boolean;
  durationMs: number;
  /** What said the API rate-limited the run (its adapter's `rate_limited` event), if anything did. */
  rateLimited?: string | undefined;
}

/**
 * A per_task run's lifecycle: a discriminated union, each state carrying its own
 * data. spawned → streaming → result_seen → exited, with `stopping` between any of
 * the first three and `exited` when the supervisor ends the run.
 */
export type RunState =
  /** The process was started (or failed to start) and has printed nothing yet. */
  | { kind: 'spawned'; since: number }
  /** It printed its first line at `since`. */
  | { kind: 'streaming'; since: number }
  /** Its adapter saw the final `result` event at `since`; the process should exit now. */
  | { kind: 'result_seen'; since: number; result: RunResult }
  /** SIGTERM was sent to its process group at `since`; SIGKILL follows at `killAt` unless it exits. */
  | { kind: 'stopping'; since: number; reason: StopReason; killAt: number; killed: boolean }
  /** The process and its group are gone. */
  | { kind: 'exited'; since: number; ending: RunEnding };

export type RunStateKind = RunState['kind'];

/** States in which the process may still be running. */
export const isLive = (s: RunState): boolean => s.kind !== 'exited';

/** Seconds for messages: whole seconds as `600 s`, fractions as `0.5 s`. */
export const secondsText = (ms: number): string => `${Math.round(ms / 100) / 10} s`;
