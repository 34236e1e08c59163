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
    }
  | {
      kind: 'result';
      /** true when the final result reports success (`subtype: "success"`, `is_error: false`). */
      ok: boolean;
      num_turns?: number | undefined;
      duration_ms?: number | undefined;
      total_cost_usd?: number | undefined;
      usage?: {
        input_tokens?: number | undefined;
        output_tokens?: number | undefined;
        cache_creation_input_tokens?: number | undefined;
        cache_read_input_tokens?: number | undefined;
      } | undefined;
      /** The final text result, truncated to 4 KiB. */
      result?: string | undefined;
      session_id?: string | undefined;
    }
  /** The agent's session (Claude's `system/init` `session_id`): the checkpoint a retry resumes from. */
  | { kind: 'session'; sessionId: string }
  | { kind: 'log'; level: 'info' | 'warn'; msg: string; fields?: Record<string, unknown> | undefined }
  | { kind: 'malformed'; detail: string };

export interface StdoutAdapter {
  onLine(line: string): AdapterEvent[];
}
