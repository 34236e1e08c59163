import type { Probe, ProbeResult } from './Probe.js';

/** Where a probed agent stands: kubelet-like consecutive failures against a threshold. */
export interface ProbeState {
  last: ProbeResult | undefined;
  /** Consecutive failed probes (0 after a success). */
  failures: number;
  /** Epoch ms of the first failure of the current run of failures. */
  failingSince: number | undefined;
}

/**
 * Runs one agent's probe at most every `periodMs` and counts consecutive
 * failures. `poll(now)` is called on every agent_response round; it runs the
 * probe only when a period has passed since the last one.
 */
export class ProbeTracker {
  private lastRunAt = -Infinity;
  private readonly st: ProbeState = { last: undefined, failures: 0, failingSince: undefined };
  private inFlight: Promise<ProbeState> | undefined;

  constructor(private readonly probe: Probe, readonly periodMs: number, readonly timeoutMs: number) {}

  get state(): ProbeState {
    return { ...this.st };
  }

  async poll(now: number): Promise<ProbeState> {
    if (this.inFlight) return this.inFlight;
    if (now - this.lastRunAt < this.periodMs) return this.state;
    this.lastRunAt = now;
    this.inFlight = this.probe(this.timeoutMs).then((r) => {
      this.st.last = r;
      if (r.ok) {
        this.st.failures = 0;
        this.st.failingSince = undefined;
      } else {
        this.st.failures++;
        this.st.failingSince ??= now;
      }
      return this.state;
    }).finally(() => { this.inFlight = undefined; });
    return this.inFlight;
  }
}
