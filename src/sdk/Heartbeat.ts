import type { AgentMessageInput } from '../protocol/messages.js';
import { RuntimeStats } from './RuntimeStats.js';

/**
 * Sends a heartbeat at once and then every `intervalMs` on an unref()'d timer, so
 * it never keeps the process alive. A blocked event loop delays heartbeats, which
 * is exactly what the supervisor should see.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private stats: RuntimeStats | undefined;

  constructor(
    private readonly send: (message: AgentMessageInput) => void,
    /** Interval in milliseconds (from `welcome.settings.heartbeat_interval_ms`). */
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.stats = new RuntimeStats();
    this.beat();
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    this.timer.unref();
  }

  /** Idempotent. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stats?.stop();
    this.stats = undefined;
  }

  private beat(): void {
    if (!this.stats) return;
    this.send({ type: 'heartbeat', ...this.stats.sample() });
  }
}
