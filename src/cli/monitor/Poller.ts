import type { StateDir } from '../../supervisor/StateDir.js';
import { deriveHealth, normaliseHealth } from './health.js';
import { diffEvents, EVENT_MEMORY, mergeEvents, pushEvents } from './events.js';
import { MonitorClient } from './MonitorClient.js';
import type { HealthView, MonitorEvent, Snapshot, StatusBody } from './model.js';
import { normaliseServerEvents } from './serverEvents.js';

/** How many recently finished tasks are read to compute the processing rate. */
const RATE_SAMPLE = 200;
/** The window the processing rate is averaged over (ms). */
const RATE_WINDOW_MS = 5 * 60_000;
/** The shortest window, so a supervisor that just started does not show a spike (ms). */
const MIN_WINDOW_MS = 10_000;

/**
 * Completed tasks per minute over the last 5 minutes, or since the supervisor
 * started when that is shorter (at least 10 s), or over the span of the sample
 * when the sample is full (a busy fleet).
 */
export function processingRate(tasks: readonly { finished_at: number | null }[], startedAt: number, now: number): number {
  let windowMs = Math.max(MIN_WINDOW_MS, Math.min(RATE_WINDOW_MS, Number.isNaN(startedAt) ? RATE_WINDOW_MS : now - startedAt));
  const finished = tasks.map((t) => t.finished_at).filter((t): t is number => t !== null && t >= now - windowMs);
  if (tasks.length >= RATE_SAMPLE && finished.length === tasks.length) windowMs = Math.max(MIN_WINDOW_MS, now - Math.min(...finished));
  return (finished.length * 60_000) / windowMs;
}

export interface PollerOptions {
  stateDir: StateDir;
  now?: () => number;
}

/**
 * Polls a supervisor's control API and turns the answers into snapshots.
 * When the supervisor cannot be reached it keeps the last data, marks the
 * snapshot disconnected and, on the next poll, finds the supervisor again
 * through the state directory (a restarted supervisor has a new port and pid).
 * Optional endpoints (/api/v1/health, /api/v1/stats, /api/v1/events) are used
 * when they exist. "Recent events" is filled from the supervisor's event log
 * (GET /api/v1/events) on each (re)connection, with what happened before the
 * monitor looked (or while it was disconnected); after that, new events come
 * from comparing polls, so nothing is shown twice.
 */
export class Poller {
  private client: MonitorClient | undefined;
  private closed = false;
  private readonly now: () => number;
  private last: Snapshot;
  private optional = { health: true, events: true, stats: true };
  private seenServerEvents = new Set<string>();
  /** The next successful poll reads the event log (the first one, and the first after a reconnect). */
  private backfill = true;

  constructor(private readonly opts: PollerOptions) {
    this.now = opts.now ?? Date.now;
    this.last = { at: this.now(), connected: false, events: [] };
  }

  get snapshot(): Snapshot { return this.last; }

  async poll(): Promise<Snapshot> {
    if (this.closed) return this.last;
    const at = this.now();
    try {
      this.client ??= MonitorClient.fromStateDir(this.opts.stateDir);
      const client = this.client;
      const status = await client.call<StatusBody>('GET', '/api/v1/status');
      const [health, ratePerMin, serverEvents] = await Promise.all([
        this.optional.health ? this.get(client, '/api/v1/health', 'health') : undefined,
        this.rate(client, Date.parse(status.supervisor.started_at), at),
        this.optional.events && this.backfill ? this.get(client, `/api/v1/events?limit=${EVENT_MEMORY}`, 'events') : undefined,
      ]);
      const healthView: HealthView = normaliseHealth(health) ?? deriveHealth(status);
      let events = pushEvents(this.last.events, diffEvents(this.last.status, status, this.last.health, healthView, at));
      if (!this.last.connected && this.last.status) events = pushEvents(events, [{ at, kind: 'connection', agent: null, text: `reconnected to the supervisor (pid ${status.supervisor.pid})`, tone: 'ok' }]);
      if (this.backfill && serverEvents !== undefined) {
        // Only what this monitor has not seen: everything on the first poll, since the last answer after a reconnect.
        const since = this.last.okAt ?? -Infinity;
        events = mergeEvents(events, this.fresh(normaliseServerEvents(serverEvents).filter((e) => e.at > since)));
      }
      this.backfill = false;
      this.last = { at, okAt: at, connected: true, status, health: healthView, ratePerMin, events };
    } catch (err) {
      if (this.closed) return this.last;
      this.client = undefined; // re-read the endpoint and token next time
      this.optional = { health: true, events: true, stats: true };
      this.backfill = true;
      const lost: MonitorEvent[] = this.last.connected ? [{ at, kind: 'connection', agent: null, text: 'supervisor unreachable: reconnecting…', tone: 'bad' }] : [];
      this.last = { ...this.last, at, connected: false, error: (err as Error).message, events: pushEvents(this.last.events, lost) };
    }
    return this.last;
  }

  /** Stops: requests in flight are aborted, later polls do nothing. Idempotent. */
  close(): void {
    this.closed = true;
    this.client?.close();
  }

  /** Asks the supervisor to restart an agent or one replica (`qaa-1`). Returns a line for the user. */
  async restart(name: string): Promise<{ ok: boolean; text: string }> {
    try {
      this.client ??= MonitorClient.fromStateDir(this.opts.stateDir);
      const r = await this.client.call<{ replicas?: string[] }>('POST', `/api/v1/agents/${encodeURIComponent(name)}/restart`, {});
      return { ok: true, text: `Restart of ${name} accepted${r.replicas?.length ? ` (${r.replicas.join(', ')})` : ''}` };
    } catch (err) {
      return { ok: false, text: `Restart of ${name} failed: ${(err as Error).message}` };
    }
  }

  /**
   * Completed tasks per minute: from GET /api/v1/stats over the rate window when the
   * supervisor has it (counted in its database), else from the recent completed tasks.
   */
  private async rate(client: MonitorClient, startedAt: number, at: number): Promise<number | undefined> {
    if (this.optional.stats) {
      const windowS = Math.round(Math.max(MIN_WINDOW_MS, Math.min(RATE_WINDOW_MS, Number.isNaN(startedAt) ? RATE_WINDOW_MS : at - startedAt)) / 1000);
      const r = await client.request<{ roles?: { completed?: number }[] }>('GET', `/api/v1/stats?window=${windowS}s`);
      if (r.status === 200 && Array.isArray(r.body.roles)) return (r.body.roles.reduce((n, x) => n + (x.completed ?? 0), 0) * 60) / windowS;
      if (r.status === 404) this.optional.stats = false;
    }
    const t = await client.request<{ tasks?: { finished_at: number | null }[] }>('GET', `/api/v1/tasks?status=completed&limit=${RATE_SAMPLE}`);
    return t.status === 200 && Array.isArray(t.body.tasks) ? processingRate(t.body.tasks, startedAt, at) : undefined;
  }

  /** GET an optional endpoint: a 404 turns it off until the next reconnect. */
  private async get(client: MonitorClient, path: string, which: keyof Poller['optional']): Promise<unknown> {
    const r = await client.request<unknown>('GET', path);
    if (r.status === 404) this.optional[which] = false;
    return r.status < 400 || which === 'health' ? r.body : undefined;
  }

  private fresh(list: MonitorEvent[]): MonitorEvent[] {
    const out = list.filter((e) => !this.seenServerEvents.has(`${e.at}|${e.text}`));
    for (const e of out) this.seenServerEvents.add(`${e.at}|${e.text}`);
    if (this.seenServerEvents.size > 1000) this.seenServerEvents = new Set([...this.seenServerEvents].slice(-200));
    return out;
  }
}
