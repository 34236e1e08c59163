import { openDatabase, type Db } from '../store/Database.js';
import type { ControllerResult } from '../telemetry/metrics/controllerMetrics.js';
import { AlertInbox } from './AlertInbox.js';
import { ReplicaCooldowns } from './ReplicaCooldowns.js';

/** One decision about one alert, as stored and as `GET /api/v1/alerts/decisions` returns it. */
export interface AlertDecision {
  id: number;
  /** Epoch ms. */
  at: number;
  alertname: string;
  fingerprint: string;
  starts_at: string;
  status: 'firing' | 'resolved';
  instance: string | null;
  agent: string | null;
  replica: string | null;
  /** The replica slot (`qaa-1`) or agent name the alert named: what the controller restarted or would have. */
  target: string | null;
  /** The supervisor's URL (standalone controller), or null in-process. */
  supervisor: string | null;
  action: 'restart';
  result: ControllerResult;
  reason: string;
  /** Webhook received → decision made, ms. */
  decision_ms: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS controller_claims (
    alert_key TEXT PRIMARY KEY,
    claimed_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS controller_claims_at ON controller_claims(claimed_at);
  CREATE TABLE IF NOT EXISTS controller_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL, alertname TEXT NOT NULL, fingerprint TEXT NOT NULL, starts_at TEXT NOT NULL,
    status TEXT NOT NULL, instance TEXT, agent TEXT, replica TEXT, target TEXT, supervisor TEXT,
    action TEXT NOT NULL, result TEXT NOT NULL, reason TEXT NOT NULL, decision_ms REAL NOT NULL
  );`;

/**
 * Opens the state database for the controller, on a connection of its own with
 * synchronous=NORMAL: in WAL mode a commit then survives a crash or SIGKILL of the
 * process (what dedupe needs) without an fsync per decision, which at about 5-10 ms
 * each would dominate decision latency in an alert storm. Only a power loss can
 * drop the last claims; a resend may then restart once more (still rate-limited).
 */
export function openControllerDb(file: string): Db {
  const db = openDatabase(file);
  db.exec('PRAGMA synchronous = NORMAL'); // exec, not pragma(): see keepAlive in store/Database.ts
  return db;
}

export interface DecisionStoreOptions {
  /** Decisions kept (oldest dropped). Default 1000. */
  retainDecisions?: number | undefined;
  /** How long a dedupe claim (fingerprint + startsAt) is kept, in seconds. Default 7 days. */
  claimRetentionSeconds?: number | undefined;
  /** Clock in epoch ms. Default Date.now. */
  now?: (() => number) | undefined;
}

/**
 * The controller's durable memory, in its own tables of the state database: the
 * dedupe claims (one per alert instance acted on), a bounded decision history,
 * the alerts accepted but not decided yet ({@link inbox}) and the last alert
 * restart of each replica ({@link cooldowns}). All survive a restart of the
 * controller, so a resent alert is not acted on twice, an accepted one is not
 * lost, and a cooldown is not reset.
 */
export class DecisionStore {
  readonly inbox: AlertInbox;
  readonly cooldowns: ReplicaCooldowns;
  private readonly stmts;
  private readonly tx: (fn: () => unknown) => unknown;
  private readonly now: () => number;
  private readonly retainDecisions: number;
  private readonly claimRetentionMs: number;
  private writes = 0;

  constructor(db: Db, opts: DecisionStoreOptions = {}) {
    db.exec(SCHEMA);
    this.inbox = new AlertInbox(db);
    this.cooldowns = new ReplicaCooldowns(db);
    this.tx = db.transaction((fn: () => unknown) => fn());
    this.now = opts.now ?? Date.now;
    this.retainDecisions = opts.retainDecisions ?? 1000;
    this.claimRetentionMs = (opts.claimRetentionSeconds ?? 7 * 86_400) * 1000;
    this.stmts = {
      claim: db.prepare('INSERT OR IGNORE INTO controller_claims (alert_key, claimed_at) VALUES (?, ?)'),
      release: db.prepare('DELETE FROM controller_claims WHERE alert_key = ?'),
      claimed: db.prepare('SELECT 1 FROM controller_claims WHERE alert_key = ?'),
      insert: db.prepare(`INSERT INTO controller_decisions (at, alertname, fingerprint, starts_at, status, instance, agent, replica, target, supervisor, action, result, reason, decision_ms)
        VALUES (@at, @alertname, @fingerprint, @starts_at, @status, @instance, @agent, @replica, @target, @supervisor, @action, @result, @reason, @decision_ms)`),
      update: db.prepare('UPDATE controller_decisions SET result = ?, reason = ? WHERE id = ?'),
      recent: db.prepare('SELECT * FROM controller_decisions ORDER BY id DESC LIMIT ?'),
      pruneDecisions: db.prepare('DELETE FROM controller_decisions WHERE id <= (SELECT MAX(id) FROM controller_decisions) - ?'),
      pruneClaims: db.prepare('DELETE FROM controller_claims WHERE claimed_at < ?'),
    };
    this.prune();
  }

  /** Claims an alert instance for one action. False when it was already claimed (a duplicate). */
  claim(key: string): boolean {
    return this.stmts.claim.run(key, this.now()).changes === 1;
  }

  /** Gives a claim back (the action failed), so a resend of the alert may act. */
  release(key: string): void {
    this.stmts.release.run(key);
  }

  isClaimed(key: string): boolean {
    return this.stmts.claimed.get(key) !== undefined;
  }

  /** Stores a decision and returns it with its id. */
  record(d: Omit<AlertDecision, 'id'>): AlertDecision {
    const id = Number(this.stmts.insert.run(d).lastInsertRowid);
    if (++this.writes % 100 === 0) this.prune();
    return { id, ...d };
  }

  /** Changes the result of a decision once its action finished (e.g. `acted` → `failed`). */
  setResult(id: number, result: ControllerResult, reason: string): void {
    this.stmts.update.run(result, reason, id);
  }

  /** The newest decisions first. */
  recent(limit = 50): AlertDecision[] {
    return this.stmts.recent.all(Math.max(1, Math.min(limit, this.retainDecisions))) as AlertDecision[];
  }

  /** Runs `fn` in one transaction of the state database: all its writes or none. */
  atomically<T>(fn: () => T): T {
    return this.tx(fn) as T;
  }

  private prune(): void {
    this.stmts.pruneDecisions.run(this.retainDecisions);
    this.stmts.pruneClaims.run(this.now() - this.claimRetentionMs);
  }
}
