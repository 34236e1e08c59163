import path from 'node:path';
import type { Db } from './Database.js';
import { DiskFullError } from './DiskFullError.js';

export interface StoredEvent { id: number; at: number; agent: string | null; kind: string; detail: unknown }
type StoredRow = Omit<StoredEvent, 'detail'> & { detail: string };
const parsed = (r: StoredRow): StoredEvent => ({ ...r, detail: JSON.parse(r.detail) });

/**
 * Durable history of restarts, findings and escalations (bounded by `retention`
 * rows). History is not worth stopping for: an event the disk refuses is told to
 * `onDiskFull` and left out.
 */
export class EventLog {
  private readonly stmts;
  private writes = 0;
  constructor(private readonly db: Db, private readonly retention = 10_000, private readonly now: () => number = Date.now, private readonly onDiskFull?: (err: DiskFullError) => void) {
    this.stmts = {
      insert: db.prepare('INSERT INTO events (at, agent, kind, detail) VALUES (?, ?, ?, ?)'),
      recent: db.prepare('SELECT * FROM events WHERE (? IS NULL OR agent = ?) ORDER BY id DESC LIMIT ?'),
      // kinds as a JSON array: one prepared statement for any number of them.
      recentOf: db.prepare('SELECT * FROM events WHERE kind IN (SELECT value FROM json_each(?)) ORDER BY id DESC LIMIT ?'),
      prune: db.prepare('DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?'),
    };
  }

  record(agent: string | null, kind: string, detail: unknown): void {
    try {
      this.stmts.insert.run(this.now(), agent, kind, JSON.stringify(detail ?? null));
      if (++this.writes % 500 === 0) this.stmts.prune.run(this.retention);
    } catch (err) {
      const e = DiskFullError.from(err, path.dirname(this.db.name), `record the ${kind} event${agent ? ` of ${agent}` : ''}`);
      if (!e) throw err;
      this.onDiskFull?.(e);
    }
  }

  recent(limit = 50, agent?: string): StoredEvent[] {
    return (this.stmts.recent.all(agent ?? null, agent ?? null, limit) as StoredRow[]).map(parsed);
  }

  /** The newest `limit` events of these kinds (`escalation`, `finding`, …), newest first. */
  recentOf(kinds: readonly string[], limit = 50): StoredEvent[] {
    return (this.stmts.recentOf.all(JSON.stringify(kinds), limit) as StoredRow[]).map(parsed);
  }
}
