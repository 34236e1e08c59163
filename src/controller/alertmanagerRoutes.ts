/** Receiver names in the generated alertmanager.yml. */
export const RECEIVER = {
  /** No integration: the alert only shows in Alertmanager's UI and `amtool alert query`. */
  none: 'null',
  deadman: 'deadman',
  controller: 'recovery-controller',
  people: 'people',
} as const;

/** `max_alerts` of each webhook: keeps a notification far below the controller's 512 KiB body limit. */
export const MAX_ALERTS_PER_NOTIFICATION = 64;

/** Labels alerts are grouped by: one notification per alert and agent on one supervisor. */
export const GROUP_BY = ['alertname', 'agent', 'instance'] as const;

/**
 * The routing tree. Order matters: the Watchdog stops at the dead-man receiver;
 * action="restart" goes to the controller and continues, so a critical restartable
 * alert also reaches people; severity="critical" and action="page" go to people.
 * Everything else ends at the null receiver.
 */
export function routeTree(hasPeople: boolean): Record<string, unknown> {
  const routes: Record<string, unknown>[] = [
    // The dead-man switch expects this every minute; it stops when the pipeline breaks.
    { receiver: RECEIVER.deadman, matchers: ['alertname="Watchdog"'], group_wait: '0s', group_interval: '1m', repeat_interval: '1m' },
    // Restarts: quick first notification; each repeat is deduplicated by the controller
    // (fingerprint + startsAt), so repeat_interval only gives skipped alerts another chance.
    { receiver: RECEIVER.controller, matchers: ['action="restart"'], group_wait: '10s', group_interval: '1m', repeat_interval: '1h', continue: true },
  ];
  if (hasPeople) {
    routes.push(
      { receiver: RECEIVER.people, matchers: ['severity="critical"'], repeat_interval: '4h' },
      { receiver: RECEIVER.people, matchers: ['action="page"'], repeat_interval: '4h' },
    );
  }
  return {
    receiver: RECEIVER.none,
    group_by: [...GROUP_BY],
    group_wait: '30s',
    group_interval: '5m',
    repeat_interval: '12h',
    routes,
  };
}

/** Inhibitions of docs/alerting.md: a down supervisor mutes its agents; an open breaker mutes the crash loop; an account-wide rate limit mutes the per-role storms. */
export function inhibitRules(): Record<string, unknown>[] {
  return [
    // Per-agent alerts (they carry `agent`) of a supervisor that cannot be scraped are stale.
    { source_matchers: ['alertname="SupervisorDown"'], target_matchers: ['agent=~".+"'], equal: ['instance'] },
    // So are the task and queue alerts of that supervisor.
    { source_matchers: ['alertname="SupervisorDown"'], target_matchers: ['alertname=~"TaskQueueBacklogGrowing|TaskDeadLettered"'], equal: ['instance'] },
    // An open breaker already pages; the crash loop and the down replica behind it are the same story.
    { source_matchers: ['alertname="AgentCircuitOpen"'], target_matchers: ['alertname=~"AgentCrashLooping|AgentDown"'], equal: ['instance', 'agent', 'replica'] },
    // The account is rate-limited (several roles at once): one alert for the supervisor, not one per role.
    { source_matchers: ['alertname="LLMAPIRateLimited"'], target_matchers: ['alertname="LLMRateLimitStorm"'], equal: ['instance'] },
  ];
}
