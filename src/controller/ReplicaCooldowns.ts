import type { Db } from '../store/Database.js';

/**
 * When each replica was last restarted by an alert: what the per-replica cooldown
 * of {@link RestartRateLimiter} reads. A replica is a slot (`qaa-0`) of one
 * supervisor: `null` for the supervisor the controller runs in, else its URL.
 */
export interface CooldownLedger {
  /** Epoch ms of the last alert restart of `slot`, or undefined if none is remembered. */
  lastRestart(supervisor: string | null, slot: string): number | undefined;
  /** Remembers that `slots` were restarted at `at` (epoch ms) for the alert instance `alertKey`. */
  markRestarted(supervisor: string | null, slots: readonly string[], at: number, alertKey: string): void;
  /** Forgets the restarts marked for `alertKey` (its restart request failed: nothing was restarted). */
  forget(alertKey: string): void;
}

/** A ledger in memory, for a limiter without a state database. */
export class MemoryCooldowns implements CooldownLedger {
  private readonly rows = new Map<string, { at: number; alertKey: string }>();

  lastRestart(supervisor: string | null, slot: string): number | undefined {
    return this.rows.get(JSON.stringify([supervisor ?? '', slot]))?.at;
  }

  markRestarted(supervisor: string | null, slots: readonly string[], at: number, alertKey: string): void {
    for (const slot of slots) this.rows.set(JSON.stringify([supervisor ?? '', slot]), { at, alertKey });
  }

  forget(alertKey: string): void {
    for (const [k, v] of this.rows) if (v.alertKey === alertKey) this.rows.delete(k);
  }
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS controller_cooldowns (
    supervisor TEXT NOT NULL,
    slot TEXT NOT NULL,
    restarted_at INTEGER NOT NULL,
    alert_key TEXT NOT NULL,
    PRIMARY KEY (supervisor, slot)
  );
  CREATE INDEX IF NOT EXISTS controller_cooldowns_key ON controller_cooldowns(alert_key);`;

/**
 * The cooldown ledger in the `controller_cooldowns` table of the state database:
 * one row per replica ever restarted by an alert (`supervisor` is '' in-process),
 * so the table is as small as the fleet. It is not pruned with the decision
 * history, so no flood of other decisions erases a cooldown, and a restarted
 * supervisor or controller reads it back. Created the first time, it is seeded
 * from the decisions the history still holds (databases from before it existed).
 */
export class ReplicaCooldowns implements CooldownLedger {
  private readonly stmts;

  constructor(db: Db) {
    const existed = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'controller_cooldowns'").get() !== undefined;
    db.exec(SCHEMA);
    const hasHistory = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'controller_decisions'").get() !== undefined;
    if (!existed && hasHistory) {
      db.exec(`INSERT OR REPLACE INTO controller_cooldowns (supervisor, slot, restarted_at, alert_key)
        SELECT COALESCE(supervisor, ''), target, MAX(at), fingerprint || '@' || starts_at FROM controller_decisions
        WHERE result = 'acted' AND target IS NOT NULL GROUP BY COALESCE(supervisor, ''), target`);
    }
    this.stmts = {
      get: db.prepare('SELECT restarted_at FROM controller_cooldowns WHERE supervisor = ? AND slot = ?'),
      mark: db.prepare(`INSERT INTO controller_cooldowns (supervisor, slot, restarted_at, alert_key) VALUES (?, ?, ?, ?)
        ON CONFLICT (supervisor, slot) DO UPDATE SET restarted_at = excluded.restarted_at, alert_key = excluded.alert_key`),
      forget: db.prepare('DELETE FROM controller_cooldowns WHERE alert_key = ?'),
    };
  }

  lastRestart(supervisor: string | null, slot: string): number | undefined {
    return (this.stmts.get.get(supervisor ?? '', slot) as { restarted_at: number } | undefined)?.restarted_at;
  }

  markRestarted(supervisor: string | null, slots: readonly string[], at: number, alertKey: string): void {
    for (const slot of slots) this.stmts.mark.run(supervisor ?? '', slot, at, alertKey);
  }

  forget(alertKey: string): void {
    this.stmts.forget.run(alertKey);
  }
}
