/**
 * A stdout adapter turns an agent's stdout lines into task signals.
 * The supervisor feeds every stdout line (without the newline) to `onLine`;
 * the adapter returns zero or more events. Adapters never throw on bad input.
 */
export type AdapterEvent =
  | {
      kind: 'progress';
      /** Assistant turns seen so far in this task. */
      turns: number;
      /** A short human summary of the last assistant or tool event (at most 200 chars). */
      message: string;
      /**
       * Tokens used so far in this run (the sum over its API messages), when the
       * stream carries them (claude's assistant events do). Cost is only known at the result.
       */
      usage?: TokenUsage | undefined;
      /** The model of the last assistant message (`claude-sonnet-4-5-20250929`), when the stream names it. */
      model?: string | undefined;
    }
  /**
   * A tool call the agent made (claude's `tool_use` block): what loop detection counts.
   * `input` is its input as canonical JSON (keys sorted), cut to 4 KiB.
   */
  | { kind: 'tool_call'; id: string; name: string; summary: string; input: string }
  /** The answer to a tool call (claude's `tool_result` block): `digest` identifies its content. */
  | { kind: 'tool_result'; id: string; digest: string; isError: boolean }
  | {
      kind: 'result';
      /** true when the final result reports success (`subtype: "success"`, `is_error: false`). */
      ok: boolean;
      /** The result's `subtype`: `success`, `error_max_turns`, `error_during_execution`, … */
      subtype?: string | undefined;
      num_turns?: number | undefined;
      duration_ms?: number | undefined;
      total_cost_usd?: number | undefined;
      usage?: TokenUsage | undefined;
      /** The final text result, truncated to 4 KiB (a cut text ends in `… [N bytes, cut]`). */
      result?: string | undefined;
      session_id?: string | undefined;
      /**
       * Set when the result line was longer than the agent's `max_result_bytes`: the
       * line's size in bytes. Its fields were then read from its first and last 64 KiB.
       */
      oversized_bytes?: number | undefined;
    }
  | {
      kind: 'oversized';
      /** Size of the stdout line, in bytes, and the limit it went over (`max_result_bytes`). */
      bytes: number;
      limit: number;
      /** What could be read of the line, shaped like the event it was (for the agent's log). */
      standIn: Record<string, unknown>;
    }
  /**
   * The API refused the agent for load, not for its request: a rate limit (HTTP 429,
   * claude's assistant `error: "rate_limit"`) or an overload (HTTP 529). The whole role backs off.
   */
  | { kind: 'rate_limited'; detail: string }
  /** The agent's session (Claude's `system/init` `session_id`): the checkpoint a retry resumes from. */
  | { kind: 'session'; sessionId: string }
  | { kind: 'log'; level: 'info' | 'warn'; msg: string; fields?: Record<string, unknown> | undefined }
  | { kind: 'malformed'; detail: string };

/** Token counts as claude reports them in `usage`. */
export type TokenUsage = {
  input_tokens?: number | undefined;
  output_tokens?: number | undefined;
  cache_creation_input_tokens?: number | undefined;
  cache_read_input_tokens?: number | undefined;
};

/** A stdout line over the agent's limit: only its size and its first and last bytes are known. */
export interface OversizedLine {
  bytes: number;
  limit: number;
  /** The first and last 64 KiB of the line, decoded as UTF-8 (a character cut at an edge becomes U+FFFD). */
  head: string;
  tail: string;
}

export interface StdoutAdapter {
  onLine(line: string): AdapterEvent[];
  /**
   * A line that was too long to read whole. Adapters that can, read what they
   * need from its head and tail (claude's result usage and cost); the default is
   * one `oversized` event.
   */
  onOversizedLine?(line: OversizedLine): AdapterEvent[];
}
