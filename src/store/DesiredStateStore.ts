import type { Db } from './Database.js';

/** One stop an operator made: the whole agent (`replica` undefined) or one replica by index. */
export interface StoppedEntry {
  agent: string;
  /** The replica index ("1" for qaa-1); undefined when the whole agent is stopped. */
  replica: string | undefined;
  stoppedAt: number;
  reason: string | null;
}

/**
 * What an operator asked the fleet to be, kept in the state database so it
 * outlives the supervisor (`agent_desired_state`, migration 5): the agents and
 * replicas stopped by `background stop <agent>` until `background start <agent>`.
 */
export class DesiredStateStore {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      all: db.prepare('SELECT agent, replica, stopped_at, reason FROM agent_desired_state ORDER BY agent, replica'),
      put: db.prepare('INSERT INTO agent_desired_state (agent, replica, stopped_at, reason) VALUES (?, ?, ?, ?) ON CONFLICT (agent, replica) DO NOTHING'),
      dropOne: db.prepare('DELETE FROM agent_desired_state WHERE agent = ? AND replica = ?'),
      dropAgent: db.prepare('DELETE FROM agent_desired_state WHERE agent = ?'),
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
}
