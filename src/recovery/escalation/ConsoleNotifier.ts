import { nextSteps, reasonTitle, type FormatOptions } from './formatEscalation.js';
import { zeroCounters, type AlertLog, type ChannelCounters, type Escalation, type Notifier } from './Notifier.js';

/**
 * The console channel is the supervisor's log: the supervisor already writes the
 * escalation itself at error level with an `alert` field, and in the foreground
 * the log is the console. This notifier adds the line a person at that console
 * needs next: which commands to run. It is synchronous and cannot fail.
 */
export class ConsoleNotifier implements Notifier {
  readonly channel = 'console';
  private readonly counts = zeroCounters();
  private closed = false;

  constructor(private readonly log: AlertLog, private readonly format: FormatOptions = {}) {}

  notify(e: Escalation): void {
    if (this.closed) {
      this.counts.dropped++;
      return;
    }
    const s = nextSteps(e, this.format);
    this.log.warn(
      { channel: 'console', agent: e.agent, role: e.role, replica: e.slot, escalation: e.reason, next: [s.status, s.logs, s.reset] },
      `${e.slot} needs a human (${reasonTitle(e.reason)}): see \`${s.status}\` and \`${s.logs}\`; once fixed, run \`${s.reset}\``,
    );
    this.counts.sent++;
  }

  counters(): ChannelCounters {
    return { ...this.counts };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
