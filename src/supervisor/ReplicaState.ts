import type { ExitInfo, ProcessHandle } from './AgentProcess.js';

/** Why the last process ended, as shown by `status` and recorded in restart history. */
export interface LastExit {
  at: number;
  code: number | null;
  signal: string | null;
  /** crash, unhealthy (with the finding), manual, alert, spawn_error. */
  reason: string;
}

/** A replica's lifecycle: a discriminated union, each state carrying its own data. */
export type ReplicaState =
  | { kind: 'starting'; since: number; proc: ProcessHandle }
  | { kind: 'running'; since: number; proc: ProcessHandle }
  | { kind: 'stopping'; since: number; proc: ProcessHandle; reason: string; restart: boolean }
  | { kind: 'backoff'; since: number; restartAt: number; lastExit: LastExit }
  | { kind: 'circuit_open'; since: number; retryAt: number; lastExit: LastExit }
  | { kind: 'failed'; since: number; reason: string; lastExit: LastExit | undefined }
  | { kind: 'stopped'; since: number };

export type ReplicaStateKind = ReplicaState['kind'];
export const REPLICA_STATES: readonly ReplicaStateKind[] = ['starting', 'running', 'stopping', 'backoff', 'circuit_open', 'failed', 'stopped'];

export const hasProcess = (s: ReplicaState): s is Extract<ReplicaState, { proc: ProcessHandle }> =>
  s.kind === 'starting' || s.kind === 'running' || s.kind === 'stopping';

export function describeExit(info: ExitInfo): string {
  if (info.spawnError) return `could not start: ${info.spawnError}`;
  if (info.signal) return `killed by ${info.signal}`;
  return `exited with code ${info.code}`;
}
