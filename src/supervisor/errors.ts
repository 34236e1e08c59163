import { didYouMean } from '../config/didYouMean.js';

export class UnknownRoleError extends Error {
  readonly code = 'ERR_UNKNOWN_ROLE';
  constructor(readonly role: string, readonly known: readonly string[]) {
    const hint = didYouMean(role, known);
    super(`Unknown role "${role}"${hint ? `; did you mean "${hint}"?` : ''}. Configured roles: ${known.join(', ') || '(none)'}.`);
    this.name = 'UnknownRoleError';
  }
}

export class UnknownAgentError extends Error {
  readonly code = 'ERR_UNKNOWN_AGENT';
  constructor(readonly agent: string, readonly known: readonly string[]) {
    const hint = didYouMean(agent, known);
    super(`Unknown agent "${agent}"${hint ? `; did you mean "${hint}"?` : ''}. Agents: ${known.join(', ') || '(none)'}.`);
    this.name = 'UnknownAgentError';
  }
}

/** A control request the target cannot take (a per_task slot to stop, a scale of a per_task agent, …): a 400, exit 2. */
export class AgentControlError extends Error {
  readonly code = 'ERR_AGENT_CONTROL';
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = 'AgentControlError';
  }
}

/** A reload whose config changes settings that cannot change while the supervisor runs: nothing was applied (a 409, exit 2). */
export class ReloadRefusedError extends Error {
  readonly code = 'ERR_NOT_RELOADABLE';
  readonly reason = 'not_reloadable';
  constructor(readonly keys: readonly { key: string; reason: string }[]) {
    super(`The new config was not applied, and the running fleet is untouched: ${keys.length === 1 ? 'a setting' : `${keys.length} settings`} cannot change while the supervisor runs:\n${keys.map((k) => `  - ${k.reason}`).join('\n')}`);
    this.name = 'ReloadRefusedError';
  }
}

/** A task's own limits (`max_turns`, `max_cost_usd`) that its role's agents cannot enforce: a 400, exit 2. */
export class TaskLimitsError extends Error {
  readonly code = 'ERR_TASK_LIMITS';
  constructor(message: string) {
    super(message);
    this.name = 'TaskLimitsError';
  }
}
