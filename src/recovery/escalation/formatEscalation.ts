import type { Escalation, EscalationReason } from './Notifier.js';

/** The CLI name operators type (package.json `bin`). */
export const CLI_NAME = 'agentic-scrum-setup';

const TITLES: Record<EscalationReason, string> = {
  circuit_open: 'circuit breaker open',
  restarts_exhausted: 'restart attempts exhausted',
  budget_exceeded: 'LLM budget spent',
};

const MEANING: Record<EscalationReason, string> = {
  circuit_open:
    'The replica failed too often within the breaker window, so the supervisor has stopped restarting it. ' +
    'After the breaker cooldown it makes one trial start; tasks for this role wait for other replicas meanwhile.',
  restarts_exhausted:
    'The replica used up its restart attempts in this failure episode, so the supervisor has given up restarting it ' +
    'and opened its circuit breaker. After the breaker cooldown it makes one trial start.',
  budget_exceeded:
    'The role (or the whole fleet) has spent its rolling LLM budget (llm.budgets), so no new run of the role starts. ' +
    'Its tasks wait in the queue and start by themselves once enough spending has aged out of the window; runs already going carry on.',
};

/** Where to point the CLI: `--state-dir <dir>` when the state directory is known. */
export interface FormatOptions {
  stateDir?: string | undefined;
  /** The host the supervisor runs on (shown in the body). */
  host?: string | undefined;
}

/** A short human phrase for a reason: "circuit breaker open". */
export const reasonTitle = (reason: EscalationReason): string => TITLES[reason] ?? reason;

/** The email subject, e.g. `[agentic] qaa-0: circuit breaker open`. */
export const escalationSubject = (e: Escalation): string => `[agentic] ${e.slot}: ${reasonTitle(e.reason)}`;

/** The commands that help, in the order an operator would run them. */
export function nextSteps(e: Escalation, opts: FormatOptions = {}): { status: string; logs: string; reset: string } {
  const sd = opts.stateDir ? ` --state-dir ${quote(opts.stateDir)}` : '';
  const agent = quote(e.agent);
  return {
    status: `${CLI_NAME} background status${sd}`,
    logs: `${CLI_NAME} background logs ${agent} --level warn --since 1h${sd}`,
    reset: `${CLI_NAME} background reset ${agent}${sd}`,
  };
}

/** The plain-text email body: what happened, where, when, and what to do next. */
export function escalationText(e: Escalation, opts: FormatOptions = {}): string {
  const steps = nextSteps(e, opts);
  const lines = [
    `The supervisor needs a human: ${e.slot} (${reasonTitle(e.reason)}).`,
    '',
    `Agent:    ${e.agent}`,
    `Role:     ${e.role}`,
    `Replica:  ${e.slot}`,
    `Reason:   ${e.reason} (${reasonTitle(e.reason)})`,
    `Detail:   ${e.detail}`,
    `Time:     ${new Date(e.at).toISOString()}`,
    ...(opts.host ? [`Host:     ${opts.host}`] : []),
    '',
    MEANING[e.reason] ?? '',
    '',
    'What to do next:',
    `  1. See the state of every agent:   ${steps.status}`,
    `  2. Read what went wrong:           ${steps.logs}`,
    `  3. Fix the cause, then restart it: ${steps.reset}`,
    '',
    '-- ',
    'Sent by the agentic supervisor (embedded alerting: background.monitoring.alerts).',
    'Where Alertmanager is deployed, route these alerts there instead (docs/alerting.md).',
  ];
  return `${lines.join('\n')}\n`;
}

/** The webhook body (version 1). `at` is an ISO 8601 time. */
export function escalationPayload(e: Escalation, host: string): Record<string, unknown> {
  return {
    version: 1,
    kind: 'escalation',
    agent: e.agent,
    role: e.role,
    replica: e.slot,
    reason: e.reason,
    detail: e.detail,
    at: new Date(e.at).toISOString(),
    host,
  };
}

/** Quotes a shell word only when it needs it. */
const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
