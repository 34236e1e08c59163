import type { AdapterEvent, TokenUsage } from './adapters/StdoutAdapter.js';
import { secondsText, type StopReason } from './PerTaskRunState.js';
import { estimateCost, type ModelPrice } from './llmPricing.js';

/** What a run of an LLM agent is held to besides time (see RunPolicy for time). */
export interface GuardLimits {
  /** Most assistant turns a run may take (the task's `max_turns`, else the agent's). */
  readonly maxTurns: number | undefined;
  /** Most a run may spend, USD (the task's `max_cost_usd`, else the agent's), judged on the cost estimated from the stream's usage. */
  readonly maxCostUsd: number | undefined;
  /** Which limits the task set itself (named so in the reason: "over the task's max_cost_usd $0.50"); default: none. */
  readonly fromTask?: { readonly turns: boolean; readonly cost: boolean } | undefined;
  /** Tool-loop detection (`health_checks.llm_progress`), or undefined when it is off. */
  readonly loop: { readonly maxRepeats: number; readonly windowMs: number; readonly retry: boolean } | undefined;
  /** Prices per model, first match wins (`background.llm.pricing`). */
  readonly pricing: readonly ModelPrice[];
}

interface Call { name: string; summary: string; input: string }
interface Answered { sig: string; summary: string; at: number }

/**
 * Watches a per_task run's stream for what only an LLM-aware supervisor can see,
 * and says when the run must be ended:
 * - **tool loop**: the same tool call with the same input answered with the same
 *   content `maxRepeats` times within the window. A cycle of two or three calls
 *   repeats each of its calls, so it is caught the same way; repetition that
 *   learns something (a build polled until its output changes, many different
 *   files read) never repeats a (call, answer) pair and is never flagged.
 * - **budget**: more turns than `max_turns`, or an estimated cost (the stream's
 *   token usage at the model's price) over `max_cost_usd`.
 * The guard only judges; the run stops itself with the reason it returns.
 */
export class RunGuard {
  private readonly calls = new Map<string, Call>();
  private answered: Answered[] = [];
  private usage: TokenUsage | undefined;
  private model: string | undefined;
  private turnsSeen = 0;
  private tripped = false;

  constructor(private readonly limits: GuardLimits) {}

  /** Turns and tokens so far, and the cost they come to at the model's price (undefined: model not priced). */
  get spent(): { turns: number; usage: TokenUsage | undefined; costUsd: number | undefined; model: string | undefined } {
    return { turns: this.turnsSeen, usage: this.usage, costUsd: estimateCost(this.usage, this.model, this.limits.pricing), model: this.model };
  }

  /** Feeds one adapter event; returns why the run must end, once, when a limit is crossed. */
  onEvent(ev: AdapterEvent, now: number): StopReason | undefined {
    if (this.tripped) return undefined;
    const reason = this.judge(ev, now);
    if (reason) this.tripped = true;
    return reason;
  }

  private judge(ev: AdapterEvent, now: number): StopReason | undefined {
    const l = this.limits;
    if (ev.kind === 'progress') {
      this.turnsSeen = ev.turns;
      if (ev.usage) this.usage = ev.usage;
      if (ev.model) this.model = ev.model;
      if (l.maxTurns !== undefined && ev.turns > l.maxTurns) {
        return { cause: 'budget_exceeded', detail: `took ${ev.turns} turns, over ${l.fromTask?.turns ? "the task's " : ''}max_turns ${l.maxTurns}`, retryable: false };
      }
      const cost = this.spent.costUsd;
      if (l.maxCostUsd !== undefined && cost !== undefined && cost > l.maxCostUsd) {
        return { cause: 'budget_exceeded', detail: `spent about $${cost.toFixed(2)} (${this.model} prices), over ${l.fromTask?.cost ? "the task's " : ''}max_cost_usd $${l.maxCostUsd.toFixed(2)}`, retryable: false };
      }
      return undefined;
    }
    if (!l.loop) return undefined;
    if (ev.kind === 'tool_call') {
      this.calls.set(ev.id, { name: ev.name, summary: ev.summary, input: ev.input });
      return undefined;
    }
    if (ev.kind !== 'tool_result') return undefined;
    const call = this.calls.get(ev.id);
    if (!call) return undefined;
    this.calls.delete(ev.id);
    const sig = `${call.name}\u0000${call.input}\u0000${ev.digest}`;
    const since = now - l.loop.windowMs;
    this.answered = this.answered.filter((a) => a.at >= since);
    this.answered.push({ sig, summary: call.summary, at: now });
    const same = this.answered.filter((a) => a.sig === sig);
    if (same.length < l.loop.maxRepeats) return undefined;
    return { cause: 'tool_loop', detail: loopText(this.answered, same, now, l.loop.maxRepeats), retryable: l.loop.retry };
  }
}

/**
 * "called Read note.txt 6 times in 2.5 min with the same input and the same answer",
 * or, when other calls came back between the repeats as they did, the cycle:
 * "repeated the cycle Read a.txt → Grep TODO 6 times in 3 min …".
 */
function loopText(answered: readonly Answered[], same: readonly Answered[], now: number, maxRepeats: number): string {
  const first = same[0] as Answered;
  const between = answered.filter((a) => a.at >= first.at);
  // Only calls that came back the same way more than once are part of the cycle: a build
  // polled in between with a new answer each time is not.
  const seen = new Map<string, number>();
  for (const a of between) seen.set(a.sig, (seen.get(a.sig) ?? 0) + 1);
  const cycle: string[] = [];
  for (const a of between) {
    if (cycle.length > 0 && a.sig === first.sig) break;
    if ((seen.get(a.sig) ?? 0) > 1 && !cycle.includes(a.summary)) cycle.push(a.summary);
  }
  const span = secondsText(now - first.at);
  const what = cycle.length <= 1 ? `called ${first.summary}` : `repeated the cycle ${cycle.slice(0, 4).join(' → ')}${cycle.length > 4 ? ' → …' : ''}`;
  return `${what} ${same.length} times in ${span} with the same input and the same answer (llm_progress.max_repeats ${maxRepeats})`;
}
