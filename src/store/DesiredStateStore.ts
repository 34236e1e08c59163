import type { Db } from './Database.js';

/** One stop an operator made: the whole agent (`replica` undefined) or one replica by index. */
export interface StoppedEntry {
  agent: string;
  /** The replica index ("1" for qaa-1); undefined when the whole agent is stopped. */
  replica: string | undefined;
  stoppedAt: number;
  reason: string | null;
}

/** A replica count set by `background scale`, and the config's `replicas` when it was set. */
export interface ScaleEntry {
  replicas: number;
  configReplicas: number;
  scaledAt: number;
}

/**
 * What an operator asked the fleet to be, kept in the state database so it
 * outlives the supervisor: the agents and replicas stopped by `background stop
 * <agent>` until `background start <agent>` (`agent_desired_state`, migration 5),
 * and the replica counts set by `background scale` (`agent_scale`, migration 6).
 */
export class DesiredStateStore {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      all: db.prepare('SELECT agent, replica, stopped_at, reason FROM agent_desired_state ORDER BY agent, replica'),
      put: db.prepare('INSERT INTO agent_desired_state (agent, replica, stopped_at, reason) VALUES (?, ?, ?, ?) ON CONFLICT (agent, replica) DO NOTHING'),
      dropOne: db.prepare('DELETE FROM agent_desired_state WHERE agent = ? AND replica = ?'),
      dropAgent: db.prepare('DELETE FROM agent_desired_state WHERE agent = ?'),
      dropFrom: db.prepare('DELETE FROM agent_desired_state WHERE agent = ? AND replica != \'\' AND CAST(replica AS INTEGER) >= ?'),
      scaleOf: db.prepare('SELECT replicas, config_replicas, scaled_at FROM agent_scale WHERE agent = ?'),
      setScale: db.prepare('INSERT INTO agent_scale (agent, replicas, config_replicas, scaled_at) VALUES (?, ?, ?, ?) ON CONFLICT (agent) DO UPDATE SET replicas = excluded.replicas, config_replicas = excluded.config_replicas, scaled_at = excluded.scaled_at'),
      dropScale: db.prepare('DELETE FROM agent_scale WHERE agent = ?'),
    };
  }

  /** Every stop in force. */
  stopped(): StoppedEntry[] {
    return (this.stmts.all.all() as { agent: string; replica: string; stopped_at: number; reason: string | null }[])
      .map((r) => ({ agent: r.agent, replica: r.replica === '' ? undefined : r.replica, stoppedAt: r.stopped_at, reason: r.reason }));
  }

  /** Records a stop of the whole agent (`replica` undefined) or of one replica; an existing one keeps its time. */
  stop(agent: string, replica: string | undefined, at: number, reason: string | null): void {
    this.stmts.put.run(agent, replica ?? '', at, reason);
  }

  /** Forgets the stop of one replica, or every stop of the agent (`replica` undefined). */
  start(agent: string, replica?: string): void {
    if (replica === undefined) this.stmts.dropAgent.run(agent);
    else this.stmts.dropOne.run(agent, replica);
  }

  /** Forgets the stops of the agent's replicas from index `from` on (they no longer exist after a scale down). */
  forgetReplicasFrom(agent: string, from: number): void {
    this.stmts.dropFrom.run(agent, from);
  }

  /** The replica count `background scale` set for the agent, if any. */
  scaleOf(agent: string): ScaleEntry | undefined {
    const r = this.stmts.scaleOf.get(agent) as { replicas: number; config_replicas: number; scaled_at: number } | undefined;
    return r && { replicas: r.replicas, configReplicas: r.config_replicas, scaledAt: r.scaled_at };
  }

  /** Records a scale to `replicas` made while the config said `configReplicas`; undefined forgets it (the config rules). */
  setScale(agent: string, scale: { replicas: number; configReplicas: number; at: number } | undefined): void {
    if (scale) this.stmts.setScale.run(agent, scale.replicas, scale.configReplicas, scale.at);
    else this.stmts.dropScale.run(agent);
  }
}
