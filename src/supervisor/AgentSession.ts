import type { AgentMessage } from '../protocol/messages.js';

type Hello = Extract<AgentMessage, { type: 'hello' }>;
type Heartbeat = Extract<AgentMessage, { type: 'heartbeat' }>;

/** What a hello did to the session. */
export type HelloOutcome =
  | { kind: 'accepted' }
  /** A second hello on the same process: a protocol error; the session keeps its first hello. */
  | { kind: 'duplicate'; reason: 'duplicate_hello'; detail: string };

interface PendingPing {
  sentAt: number;
  resolve: (ms: number) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The protocol session of one agent process, as the supervisor sees it: what the
 * agent announced in its one `hello` (capabilities, SDK), its liveness (heartbeat
 * time and runtime figures) and the pings waiting for a pong. A session begins
 * with a process: `reset()` is called before each start.
 */
export class AgentSession {
  capabilities: string[] = [];
  sdk: string | undefined;
  helloAt: number | undefined;
  lastHeartbeatAt: number | undefined;
  heapUsedBytes: number | undefined;
  heapAfterGcBytes: number | undefined;
  eventLoopLagMs: number | undefined;
  lastPongRttMs: number | undefined;
  private pingSeq = 0;
  private readonly pings = new Map<number, PendingPing>();

  /** A new process: forget what the last one said (the SDK name is kept until the new one says hello). */
  reset(): void {
    this.capabilities = [];
    this.helloAt = undefined;
    this.lastHeartbeatAt = undefined;
    this.heapUsedBytes = this.heapAfterGcBytes = this.eventLoopLagMs = undefined;
  }

  get saidHello(): boolean {
    return this.helloAt !== undefined;
  }

  /**
   * The first hello opens the session; another one is refused, so that a confused
   * or hostile agent cannot change what it announced (e.g. drop every capability)
   * in the middle of a session.
   */
  hello(m: Hello, now: number): HelloOutcome {
    if (this.helloAt !== undefined) {
      const kept = this.capabilities.length ? this.capabilities.join(', ') : 'none';
      return {
        kind: 'duplicate',
        reason: 'duplicate_hello',
        detail: `a second hello ${((now - this.helloAt) / 1000).toFixed(1)}s after the first, ignored: the session keeps its first hello's capabilities (${kept}); an agent says hello once per process`,
      };
    }
    this.helloAt = now;
    this.lastHeartbeatAt = now;
    this.capabilities = m.capabilities;
    this.sdk = m.sdk ? `${m.sdk.name}@${m.sdk.version}` : 'unknown';
    return { kind: 'accepted' };
  }

  heartbeat(m: Heartbeat, now: number): void {
    this.lastHeartbeatAt = now;
    if (m.heap_used_bytes !== undefined) this.heapUsedBytes = m.heap_used_bytes;
    if (m.heap_after_gc_bytes !== undefined) this.heapAfterGcBytes = m.heap_after_gc_bytes;
    if (m.event_loop_lag_ms !== undefined) this.eventLoopLagMs = m.event_loop_lag_ms;
  }

  /**
   * Sends a ping through `send`; resolves with the round trip in ms when the pong
   * comes, rejects after `timeoutMs` or when `send` fails.
   */
  ping(send: (id: number) => boolean, timeoutMs: number): Promise<number> {
    const id = ++this.pingSeq;
    return new Promise((resolve, reject) => {
      if (!send(id)) return reject(new Error('no protocol channel'));
      const timer = setTimeout(() => {
        this.pings.delete(id);
        reject(new Error(`no pong within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pings.set(id, { sentAt: performance.now(), resolve, reject, timer });
    });
  }

  pong(id: number): void {
    const p = this.pings.get(id);
    if (!p) return;
    this.pings.delete(id);
    clearTimeout(p.timer);
    this.lastPongRttMs = performance.now() - p.sentAt;
    p.resolve(this.lastPongRttMs);
  }

  /** Fails every ping still waiting (the process ended). */
  rejectPings(reason: string): void {
    for (const [id, p] of this.pings) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
      this.pings.delete(id);
    }
  }
}
