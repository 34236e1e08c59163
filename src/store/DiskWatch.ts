import { EventEmitter } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freeBytes, type DiskFullError } from './DiskFullError.js';

/** Whether the state directory's disk takes writes. */
export type DiskState =
  | { kind: 'ok' }
  | {
      kind: 'full';
      /** When the first write was refused (ms since the epoch). */
      since: number;
      /** The directory whose filesystem refused it. */
      path: string;
      /** Bytes free at the last refusal or probe. */
      freeBytes: number | undefined;
      /** The store whose write was refused last: `queue`, `checkpoints`, `events`, `pid_file`, `logs`. */
      store: string;
      /** The last refusal's message (names the path, the code and the bytes free). */
      error: string;
      /** Writes refused since `since`. */
      failures: number;
    };

export type DiskFull = Extract<DiskState, { kind: 'full' }>;

export interface DiskWatchEvents {
  /** The first refused write after a time of room. */
  full: [state: DiskFull];
  /** A probe write went through again: stores write what they deferred, logs reopen. */
  recovered: [info: { since: number; at: number; failures: number }];
}

export interface DiskWatchOptions {
  /** How often to probe while the disk is full, in ms. Default 1000. */
  probeIntervalMs?: number | undefined;
  /** Bytes the probe writes. Default 256 KiB: room for a few SQLite transactions and a log chunk. */
  probeBytes?: number | undefined;
  now?: (() => number) | undefined;
  /** Writes `bytes` on the watched disk and removes them; throws when the disk refuses. Default: `<root>/.disk-probe`. */
  probe?: ((bytes: number) => void) | undefined;
}

/**
 * The state directory's disk as the stores see it. Stores report each write the
 * disk refused ({@link report}); the first one turns the state to `full` and
 * starts a probe that writes a little every `probeIntervalMs`. The first probe that
 * goes through turns it back to `ok` and emits `recovered`, on which the queue
 * writes the task outcomes it deferred, the pid file is rewritten and the log
 * store reopens its files. The watch only reports; each store decides what a
 * refused write means for it (507, a deferred outcome, a dropped line).
 */
export class DiskWatch extends EventEmitter<DiskWatchEvents> {
  private st: DiskState = { kind: 'ok' };
  private readonly totals = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly now: () => number;

  constructor(readonly root: string, private readonly o: DiskWatchOptions = {}) {
    super();
    this.now = o.now ?? Date.now;
  }

  get state(): DiskState {
    return this.st;
  }

  /** Refused writes by store since start; they only grow. */
  failures(): ReadonlyMap<string, number> {
    return this.totals;
  }

  /** Reports a write the disk refused. */
  report(store: string, err: DiskFullError): void {
    this.totals.set(store, (this.totals.get(store) ?? 0) + 1);
    if (this.st.kind === 'full') {
      this.st = { ...this.st, freeBytes: err.freeBytes, store, error: err.message, failures: this.st.failures + 1 };
      return;
    }
    this.st = { kind: 'full', since: this.now(), path: err.path, freeBytes: err.freeBytes, store, error: err.message, failures: 1 };
    if (!this.closed) {
      this.timer = setInterval(() => this.probeNow(), this.o.probeIntervalMs ?? 1000);
      this.timer.unref();
    }
    this.emit('full', this.st);
  }

  /** Probes now (the timer does it while full). Returns whether the disk takes writes. */
  probeNow(): boolean {
    const st = this.st;
    if (st.kind === 'ok') return true;
    try {
      (this.o.probe ?? this.probeFile)(this.o.probeBytes ?? 256 * 1024);
    } catch {
      this.st = { ...st, freeBytes: freeBytes(this.root) };
      return false;
    }
    this.st = { kind: 'ok' };
    clearInterval(this.timer);
    this.timer = undefined;
    this.emit('recovered', { since: st.since, at: this.now(), failures: st.failures });
    return true;
  }

  /** Stops probing. Idempotent. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private readonly probeFile = (bytes: number): void => {
    const file = path.join(this.root, '.disk-probe');
    try {
      writeFileSync(file, Buffer.alloc(bytes));
    } finally {
      rmSync(file, { force: true });
    }
  };
}
