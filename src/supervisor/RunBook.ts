import type { EventEmitter } from 'node:events';
import type { RunLedger, RunRecord } from '../store/RunLedger.js';
import type { RunInfo, SupervisorEvents } from './Supervisor.js';

/** A per_task run in flight, as `status` shows it. */
export interface LiveRun extends RunInfo {
  /** Turns so far (0 until the adapter sees the first). */
  turns: number;
  /** The adapter's summary of the last turn. */
  message: string | null;
  /** Tokens so far, when the stream carries them (claude's assistant events do); the cost charged is only known at the result. */
  usage: Record<string, number | undefined> | undefined;
  /** Those tokens at the model's list price (`background.llm.pricing`), USD; undefined when the model is not priced. */
  costUsd: number | undefined;
}

const count = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

/**
 * The per_task runs, from the supervisor's run events only: the ones in flight
 * (with turns and tokens so far) in memory, and every finished one in the durable
 * {@link RunLedger}. It never looks inside a PerTaskAgent.
 */
export class RunBook {
  private readonly live = new Map<string, LiveRun>();
  private readonly onStarted = (...[r]: SupervisorEvents['runStarted']) => {
    this.live.set(key(r), { ...r, turns: 0, message: null, usage: undefined, costUsd: undefined });
  };
  private readonly onProgress = (...[r]: SupervisorEvents['runProgress']) => {
    const run = this.live.get(key(r));
    if (!run) return;
    run.turns = r.turns;
    run.message = r.message;
    if (r.usage) run.usage = r.usage;
    if (r.costUsd !== undefined) run.costUsd = r.costUsd;
  };
  private readonly onFinished = (...[r]: SupervisorEvents['runFinished']) => {
    this.live.delete(key(r));
    const u = r.llm?.usage;
    this.ledger.record({
      task_id: r.taskId, agent: r.agent, role: r.role, slot: r.slot, attempt: r.attempt,
      started_at: r.startedAt, finished_at: r.startedAt + Math.max(0, r.durationMs),
      outcome: r.outcome, cause: r.cause ?? null, error: r.error ?? null,
      cost_usd: count(r.llm?.total_cost_usd), turns: count(r.llm?.num_turns),
      input_tokens: count(u?.input_tokens), output_tokens: count(u?.output_tokens),
      cache_creation_tokens: count(u?.cache_creation_input_tokens), cache_read_tokens: count(u?.cache_read_input_tokens),
    });
  };

  constructor(private readonly sup: Pick<EventEmitter<SupervisorEvents>, 'on' | 'off'>, readonly ledger: RunLedger) {
    sup.on('runStarted', this.onStarted);
    sup.on('runProgress', this.onProgress);
    sup.on('runFinished', this.onFinished);
  }

  /** The agent's runs in flight, by slot. */
  running(agent: string): LiveRun[] {
    return [...this.live.values()].filter((r) => r.agent === agent).sort((a, b) => Number(a.slot) - Number(b.slot) || a.slot.localeCompare(b.slot));
  }

  /** The agent's last finished run (across supervisor restarts). */
  last(agent: string): RunRecord | undefined {
    return this.ledger.last(agent);
  }

  close(): void {
    this.sup.off('runStarted', this.onStarted);
    this.sup.off('runProgress', this.onProgress);
    this.sup.off('runFinished', this.onFinished);
  }
}

const key = (r: RunInfo) => `${r.agent}\u0000${r.taskId}`;
