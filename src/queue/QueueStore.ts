import type { AttemptCause, AttemptRecord, LlmUsage, QueueStats, ReleaseCause, SubmitInput, Task, TaskStatus, TaskWithHistory } from './Task.js';
import type { FailOutcome, TaskQueue } from './TaskQueue.js';
import type { RoleStats } from './taskStats.js';

/**
 * The queue's contract, async: what both stores offer. `PgTaskQueue` (PostgreSQL, a fleet)
 * implements it; the SQLite `TaskQueue` (embedded, synchronous) is wrapped by
 * {@link sqliteQueueStore}. `test/integration/queue-backends.test.ts` runs one suite
 * against both. The supervisor calls only this interface (docs/architecture.md, "The
 * queue on PostgreSQL").
 */
export interface QueueStore {
  submit(input: SubmitInput): Promise<Task>;
  get(id: string): Promise<Task | undefined>;
  take(role: string, agentId: string, who?: { agent?: string | undefined; replica?: string | undefined }): Promise<Task | undefined>;
  progress(id: string, fraction: number | undefined, message: string | undefined): Promise<void> | void;
  complete(id: string, result: unknown, llm?: LlmUsage, detail?: string): Promise<Task | undefined>;
  fail(id: string, error: string, retryable: boolean, llm?: LlmUsage, cause?: AttemptCause): Promise<FailOutcome | undefined>;
  release(id: string, cause: ReleaseCause, detail: string, llm?: LlmUsage): Promise<boolean>;
  cancel(id: string): Promise<boolean>;
  retry(id: string, detail?: string): Promise<Task>;
  /** @throws UnknownTaskError, TaskStateError (not pending), RangeError (not 1..10) */
  reprioritise(id: string, priority: number): Promise<{ task: Task; previous: number }>;
  /** Completion-time percentiles, throughput, error rate and LLM usage by role from `sinceMs` to `now`. */
  performance(sinceMs: number, now?: number): Promise<RoleStats[]>;
  setAttemptReplica(id: string, replica: string): Promise<void>;
  list(filter?: { status?: TaskStatus | undefined; role?: string | undefined; correlationId?: string | undefined; limit?: number | undefined }): Promise<Task[]>;
  inProgress(): Promise<Task[]>;
  stats(): Promise<QueueStats>;
  countsByStatus(): Promise<Record<TaskStatus, number>>;
  hasPending(role: string): Promise<boolean>;
  nextDueAt(): Promise<number | undefined>;
  lastAttempt(id: string): Promise<AttemptRecord | undefined>;
  withHistory(t: Task): Promise<TaskWithHistory>;
  withHistories(ts: readonly Task[]): Promise<TaskWithHistory[]>;
  pruneHistory(): Promise<number>;
}

/** The SQLite `TaskQueue` behind {@link QueueStore}: each call's result, or its throw, as a promise. Nothing else changes. */
export function sqliteQueueStore(q: TaskQueue): QueueStore {
  const p = <T>(fn: () => T): Promise<T> => new Promise((resolve) => { resolve(fn()); });
  return {
    submit: (i) => p(() => q.submit(i)),
    get: (id) => p(() => q.get(id)),
    take: (role, agentId, who) => p(() => q.take(role, agentId, who)),
    progress: (id, f, m) => q.progress(id, f, m),
    complete: (id, r, llm, d) => p(() => q.complete(id, r, llm, d)),
    fail: (id, e, retryable, llm, cause) => p(() => q.fail(id, e, retryable, llm, cause)),
    release: (id, cause, d, llm) => p(() => q.release(id, cause, d, llm)),
    cancel: (id) => p(() => q.cancel(id)),
    retry: (id, d) => p(() => q.retry(id, d)),
    reprioritise: (id, priority) => p(() => q.reprioritise(id, priority)),
    performance: (since, now) => p(() => q.performance(since, now)),
    setAttemptReplica: (id, r) => p(() => q.setAttemptReplica(id, r)),
    list: (f) => p(() => q.list(f)),
    inProgress: () => p(() => q.inProgress()),
    stats: () => p(() => q.stats()),
    countsByStatus: () => p(() => q.countsByStatus()),
    hasPending: (role) => p(() => q.hasPending(role)),
    nextDueAt: () => p(() => q.nextDueAt()),
    lastAttempt: (id) => p(() => q.lastAttempt(id)),
    withHistory: (t) => p(() => q.withHistory(t)),
    withHistories: (ts) => p(() => q.withHistories(ts)),
    pruneHistory: () => p(() => q.pruneHistory()),
  };
}
