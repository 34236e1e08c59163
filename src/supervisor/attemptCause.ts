import type { AttemptCause } from '../queue/Task.js';
import type { ExitCause } from '../recovery/RestartPolicy.js';

/**
 * Why a service replica's attempt at a task ended when the replica's process ended
 * (or was being stopped when the agent reported the task failed):
 * - the supervisor is stopping, or the replica was stopped without a restart → `supervisor_stopped`;
 * - `background restart` or an alert restart (`manual`, `alert`) → `operator_restart`;
 * - a health verdict restarted it (`unhealthy`) → `unhealthy` (counted: the agent failed);
 * - the process died by itself (`crash`) → `crashed` (counted).
 *
 * @param supervisorStopping whether the whole supervisor is stopping
 * @param cause the replica's exit cause; undefined for a plain stop
 */
export function replicaAttemptCause(supervisorStopping: boolean, cause: ExitCause | undefined): AttemptCause {
  if (supervisorStopping || cause === undefined) return 'supervisor_stopped';
  switch (cause.kind) {
    case 'manual':
    case 'alert':
      return 'operator_restart';
    case 'unhealthy':
      return 'unhealthy';
    case 'crash':
      return 'crashed';
  }
}
