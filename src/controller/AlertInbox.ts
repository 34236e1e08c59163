import type { Db } from '../store/Database.js';
import type { AlertmanagerAlert } from './alertmanagerPayload.js';

/** An alert accepted by the webhook and not decided yet. */
export interface QueuedAlert {
  id: number;
  /** Its dedupe key, fingerprint@startsAt. */
  key: string;
  /** When the webhook accepted it, epoch ms. */
  receivedAt: number;
  alert: AlertmanagerAlert;
}

/** Most alerts waiting to be decided; a notification that would pass it is refused (503, Alertmanager retries). */
export const INBOX_LIMIT = 10_000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS controller_inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_key TEXT NOT NULL UNIQUE,
    received_at INTEGER NOT NULL,
    alert TEXT NOT NULL
  );`;

/**
 * The alerts the webhook accepted (answered 2xx) and the controller has not
 * decided yet, in the `controller_inbox` table of the state database: what was
 * acknowledged survives a crash and is decided after the restart. One row per
 * alert instance (fingerprint + startsAt): a second delivery while the first is
 * still waiting is a duplicate.
 */
export class AlertInbox {
  private readonly stmts;

  constructor(db: Db) {
    db.exec(SCHEMA);
    this.stmts = {
      add: db.prepare('INSERT OR IGNORE INTO controller_inbox (alert_key, received_at, alert) VALUES (?, ?, ?)'),
      next: db.prepare('SELECT id, alert_key, received_at, alert FROM controller_inbox ORDER BY id LIMIT ?'),
      remove: db.prepare('DELETE FROM controller_inbox WHERE id = ?'),
      size: db.prepare('SELECT COUNT(*) AS n FROM controller_inbox'),
    };
  }

  /** Queues an alert; returns its id, or undefined when the same alert instance is already waiting. */
  add(key: string, alert: AlertmanagerAlert, receivedAt: number): number | undefined {
    const r = this.stmts.add.run(key, receivedAt, JSON.stringify(alert));
    return r.changes === 1 ? Number(r.lastInsertRowid) : undefined;
  }

  /** The oldest waiting alerts, at most `limit`. */
  next(limit: number): QueuedAlert[] {
    const rows = this.stmts.next.all(limit) as { id: number; alert_key: string; received_at: number; alert: string }[];
    return rows.map((r) => ({ id: r.id, key: r.alert_key, receivedAt: r.received_at, alert: JSON.parse(r.alert) as AlertmanagerAlert }));
  }

  /** Removes a decided alert. */
  remove(id: number): void {
    this.stmts.remove.run(id);
  }

  /** How many alerts are waiting. */
  size(): number {
    return (this.stmts.size.get() as { n: number }).n;
  }
}
