import { EventEmitter } from 'node:events';
import pg from 'pg';
import { TASKS_CHANNEL } from './pgTx.js';

interface Events {
  /** A task of `role` became due: submitted, released or retried (by any supervisor). */
  task: [role: string];
  /** The listening connection failed; `start()` again (with backoff) to listen again. Takers should poll meanwhile. */
  error: [err: Error];
}

/**
 * Wakes waiting takers when a task is submitted anywhere in the fleet: one dedicated
 * connection that `LISTEN`s on {@link TASKS_CHANNEL} (a pooled connection cannot listen:
 * it goes back to the pool). Notifications are sent in the same transaction as the
 * submit, release or retry, so they arrive only once it committed. They are a hint, not
 * a delivery: a taker still calls `take()`, and one that lost its connection polls.
 */
export class PgTaskNotifier extends EventEmitter<Events> {
  private client: pg.Client | undefined;

  constructor(private readonly config: pg.ClientConfig) {
    super();
  }

  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Connects and listens. Idempotent. */
  async start(): Promise<void> {
    if (this.client) return;
    const c = new pg.Client(this.config);
    c.on('notification', (n) => { if (n.channel === TASKS_CHANNEL && n.payload) this.emit('task', n.payload); });
    c.on('error', (err) => {
      if (this.client === c) this.client = undefined;
      void c.end().catch(() => undefined);
      this.emit('error', err);
    });
    await c.connect();
    await c.query(`LISTEN ${TASKS_CHANNEL}`);
    this.client = c;
  }

  /**
   * Resolves true at the next notification for `role`, false after `timeoutMs` (or at
   * once when not listening: the caller then polls). The timer is unref'd.
   */
  wait(role: string, timeoutMs: number): Promise<boolean> {
    if (!this.client) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(timer);
        this.off('task', onTask);
        this.off('error', onError);
        resolve(v);
      };
      const onTask = (r: string) => { if (r === role) done(true); };
      const onError = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      this.on('task', onTask);
      this.on('error', onError);
    });
  }

  /** Stops listening and closes the connection. Idempotent. */
  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }
}
