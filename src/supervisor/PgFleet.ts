import { hostname } from 'node:os';
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import type { BackgroundConfig } from '../config/schema.js';
import { PgTaskNotifier } from '../queue/pg/PgTaskNotifier.js';
import { PgTaskQueue } from '../queue/pg/PgTaskQueue.js';
import type { LeaseLostError } from '../queue/pg/pgRows.js';
import { queueOptions } from '../queue/queueOptions.js';
import { PgCheckpointStore } from '../store/pg/PgCheckpointStore.js';
import { openPgDatabase, type PgDatabase } from '../store/pg/PgDatabase.js';
import type { Logger } from '../telemetry/logger.js';

/** A supervisor's id in the fleet: stable across its restarts (same host, same state directory), distinct between supervisors. */
export function supervisorIdOf(stateDirRoot: string, host = hostname()): string {
  return `${host}:${stateDirRoot}`;
}

export interface PgFleetOptions {
  url: string;
  bg: Pick<BackgroundConfig, 'queue' | 'protocol'>;
  supervisorId: string;
  log: Logger;
  /** A write or renewal was refused: another supervisor holds the task now. */
  onLeaseLost: (err: LeaseLostError) => void;
  /** A task of `role` became due somewhere in the fleet (a hint: take() decides). */
  onTask: (role: string) => void;
}

/**
 * This supervisor's link to the fleet's PostgreSQL: the queue (leases held by
 * `supervisorId`), the checkpoints, the LISTEN connection that wakes dispatch when any
 * supervisor submits (reconnected with backoff when it drops; the supervisor's
 * once-a-second poll covers the gap), and a timer that renews this supervisor's leases
 * every third of `lease_seconds` and releases the leases that ran out fleet-wide.
 */
export class PgFleet {
  readonly queue: PgTaskQueue;
  readonly checkpoints: PgCheckpointStore;
  private readonly notifier: PgTaskNotifier;
  private readonly abort = new AbortController();
  private renewTimer: NodeJS.Timeout | undefined;
  private renewing = false;
  private connecting = false;
  private renewDownSince: number | undefined;
  readonly leaseMs: number;

  private constructor(private readonly db: PgDatabase, private readonly opts: PgFleetOptions) {
    const q = opts.bg.queue;
    this.leaseMs = (q.postgres?.lease_seconds ?? 30) * 1000;
    this.queue = new PgTaskQueue(db.pool, { ...queueOptions(q), supervisorId: opts.supervisorId, leaseMs: this.leaseMs, onLeaseLost: opts.onLeaseLost });
    this.checkpoints = new PgCheckpointStore(db.pool, opts.bg.protocol.max_checkpoint_bytes, opts.bg.protocol.checkpoint_history);
    this.notifier = new PgTaskNotifier(db.clientConfig);
    this.notifier.on('task', (role) => opts.onTask(role));
    this.notifier.on('error', (err) => {
      opts.log.warn({ err: err.message }, `lost the PostgreSQL LISTEN connection (${err.message}): reconnecting with backoff; other supervisors' submits are seen by the once-a-second poll meanwhile`);
      this.listen();
    });
  }

  /**
   * Connects (and migrates the schema) before it resolves.
   * @throws PgConnectionError (the URL is malformed, the server unreachable or refusing), PgSchemaTooNewError
   */
  static async open(opts: PgFleetOptions): Promise<PgFleet> {
    const db = await openPgDatabase(opts.url, { applicationName: `agentic-supervisor ${opts.supervisorId}`.slice(0, 63) });
    return new PgFleet(db, opts);
  }

  /** Where the database is (the URL without its password), for messages. */
  get where(): string {
    return this.db.where;
  }

  /** Starts listening and renewing. */
  start(): void {
    this.listen();
    this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
  }

  private listen(): void {
    if (this.abort.signal.aborted || this.connecting) return;
    this.connecting = true;
    const policy = retry(handleAll, { maxAttempts: Number.MAX_SAFE_INTEGER, backoff: new ExponentialBackoff({ initialDelay: 250, maxDelay: 15_000 }) }).dangerouslyUnref();
    let failures = 0;
    policy.onRetry(() => { failures++; });
    policy.execute(() => this.notifier.start(), this.abort.signal).then(() => {
      if (failures) this.opts.log.info({ retries: failures }, 'listening to the fleet\'s task notifications again');
    }, () => undefined).finally(() => { this.connecting = false; }); // rejected only when aborted: stopping
  }

  /** Renews this supervisor's leases, then releases every lease that ran out (a dead supervisor's tasks of roles nobody here takes). */
  private async renew(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      await this.queue.renewAll();
      const released = await this.queue.reclaimExpired();
      if (released.length) this.opts.log.warn({ task_ids: released, cause: 'supervisor_lost' }, `released ${released.length} task(s) whose supervisor's lease ran out: pending again, the attempt does not count`);
      if (this.renewDownSince !== undefined) this.opts.log.warn(`renewing leases again after ${((Date.now() - this.renewDownSince) / 1000).toFixed(1)} s`);
      this.renewDownSince = undefined;
    } catch (err) {
      if (this.renewDownSince === undefined) {
        this.renewDownSince = Date.now();
        this.opts.log.error({ err: (err as Error).message }, `could not renew this supervisor's leases (${(err as Error).message}): agents keep their tasks; if the database stays unreachable past lease_seconds (${this.leaseMs / 1000} s) for this supervisor only, others may take its tasks over and these runs are then stopped`);
      }
    } finally {
      this.renewing = false;
    }
  }

  /** Stops listening and renewing, and closes the pool. Idempotent. */
  async close(): Promise<void> {
    this.abort.abort();
    clearInterval(this.renewTimer);
    await this.notifier.close();
    await this.db.close().catch(() => undefined);
  }
}
