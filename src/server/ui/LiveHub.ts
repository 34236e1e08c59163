import type { ServerResponse } from 'node:http';

export interface LiveHubOptions {
  /** The snapshot pushed to every page: built once per tick, shared by all. */
  snapshot: () => unknown;  // or a promise of it (the queue may be a database away)
  /** How often the snapshot is rebuilt while a page is open, ms. Default 1000. */
  intervalMs?: number;
  /** Most pages connected at once; one more is refused (429). Default 20. */
  maxClients?: number;
  /** A comment line after this long without a frame, so proxies keep the stream open, ms. Default 15 000. */
  keepaliveMs?: number;
  /** A page that has not read its stream for this long is disconnected, ms. Default 30 000. */
  stalledMs?: number;
  /** Called when building a snapshot throws; the tick is skipped. */
  onError: (err: Error) => void;
}

interface Client {
  res: ServerResponse;
  /** Version of the last snapshot written to it. */
  sent: number;
  /** Since when its socket buffer has been full (epoch ms); 0 when it is not. */
  blockedSince: number;
}

/**
 * The server-sent event streams of the web dashboard (GET /api/v1/ui/stream).
 * While at least one page is connected, it rebuilds the snapshot every
 * `intervalMs` and writes it to every page as `event: snapshot` when it changed.
 * Backpressure: a page whose socket buffer is full gets nothing more until it
 * drains (then the newest snapshot), and is disconnected after `stalledMs`.
 */
export class LiveHub {
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | undefined;
  private frame = '';
  private json = '';
  private version = 0;
  private lastWriteAt = 0;
  private readonly interval: number;
  private readonly keepalive: number;
  private readonly stalled: number;
  readonly maxClients: number;

  constructor(private readonly opts: LiveHubOptions) {
    this.interval = opts.intervalMs ?? 1000;
    this.maxClients = opts.maxClients ?? 20;
    this.keepalive = opts.keepaliveMs ?? 15_000;
    this.stalled = opts.stalledMs ?? 30_000;
  }

  /** Pages connected now. */
  get size(): number {
    return this.clients.size;
  }

  private building = false;

  /** Whether one more page may connect. */
  get full(): boolean {
    return this.clients.size >= this.maxClients;
  }

  /** Takes over `res` (headers already written): sends the current snapshot at once, then every change, until it closes. */
  add(res: ServerResponse): void {
    const client: Client = { res, sent: 0, blockedSince: 0 };
    this.clients.add(client);
    res.on('close', () => {
      this.clients.delete(client);
      if (!this.clients.size) this.stopTimer();
    });
    res.on('drain', () => {
      client.blockedSince = 0;
      this.send(client);
    });
    res.write('retry: 3000\n\n');
    if (!this.timer) {
      this.tick();
      this.timer = setInterval(() => this.tick(), this.interval);
      this.timer.unref();
    } else this.send(client);
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    this.stopTimer();
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.building) return; // the last one is still being read: this tick is skipped
    let snap: unknown;
    try {
      snap = this.opts.snapshot();
    } catch (err) {
      this.opts.onError(err as Error);
      return;
    }
    if (!(snap instanceof Promise)) {
      this.publish(snap);
      return;
    }
    this.building = true;
    snap.then((s) => this.publish(s), (err: Error) => this.opts.onError(err)).finally(() => { this.building = false; });
  }

  private publish(snap: unknown): void {
    const now = Date.now();
    let json: string;
    try {
      json = JSON.stringify(snap);
    } catch (err) {
      this.opts.onError(err as Error);
      return;
    }
    if (json !== this.json) {
      this.json = json;
      this.version++;
      this.frame = `event: snapshot\nid: ${this.version}\ndata: ${json}\n\n`;
    }
    const keepalive = now - this.lastWriteAt >= this.keepalive;
    for (const c of this.clients) {
      if (c.blockedSince) {
        if (now - c.blockedSince > this.stalled) c.res.destroy();
        continue;
      }
      if (c.sent < this.version) this.send(c);
      else if (keepalive) this.write(c, ': keepalive\n\n');
    }
  }

  private send(c: Client): void {
    if (c.sent >= this.version || !this.frame) return;
    c.sent = this.version;
    this.write(c, this.frame);
  }

  private write(c: Client, text: string): void {
    this.lastWriteAt = Date.now();
    if (!c.res.write(text)) c.blockedSince = Date.now();
  }
}
