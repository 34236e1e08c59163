import type { AdapterEvent, OversizedLine, TokenUsage } from './StdoutAdapter.js';
import { RESULT_MAX_BYTES, isRecord, nonNegative, truncateBytes } from './textUtil.js';

/**
 * What can be read of a claude stream-json line that was too long to keep whole
 * (over the agent's `max_result_bytes`). Claude writes a result's small fields
 * around its one big one: `type`, `subtype`, `is_error`, `duration_ms`,
 * `num_turns` before `result`, and `session_id`, `total_cost_usd` and `usage`
 * after it, so the line's first and last 64 KiB hold them. Keys are matched only
 * where a JSON key can stand (a quote that is not escaped), so text inside the
 * result cannot be mistaken for them.
 *
 * Returns an `oversized` event (with a stand-in record for the log) and, for a
 * `result` line, a result event carrying the usage and cost that could be read.
 * When the subtype cannot be read the result counts as ok: the exit code decides.
 */
export function resultOfOversizedLine(line: OversizedLine): AdapterEvent[] {
  const { head, tail } = line;
  const type = stringField(head, 'type');
  if (type !== 'result') return [{ kind: 'oversized', bytes: line.bytes, limit: line.limit, standIn: { type: type ?? 'unknown' } }];
  const subtype = stringField(head, 'subtype') ?? stringField(tail, 'subtype');
  const isError = booleanField(head, 'is_error') ?? booleanField(tail, 'is_error');
  const num = (key: string) => nonNegative(numberField(head, key) ?? numberField(tail, key));
  const usage = usageField(tail) ?? usageField(head);
  const text = resultText(head);
  const note = `[result line of ${line.bytes} bytes, over max_result_bytes ${line.limit}: its text is cut]`;
  const result = `${truncateBytes(text ?? '', RESULT_MAX_BYTES - Buffer.byteLength(note) - 1)} ${note}`.trimStart();
  const ev = {
    kind: 'result' as const,
    ok: subtype === undefined ? isError !== true : subtype === 'success' && isError !== true,
    subtype,
    num_turns: num('num_turns'),
    duration_ms: num('duration_ms'),
    total_cost_usd: num('total_cost_usd'),
    usage,
    result,
    session_id: stringField(tail, 'session_id') ?? stringField(head, 'session_id'),
    oversized_bytes: line.bytes,
  };
  const standIn: Record<string, unknown> = { type: 'result', subtype, is_error: isError, num_turns: ev.num_turns, duration_ms: ev.duration_ms, total_cost_usd: ev.total_cost_usd, usage, result, session_id: ev.session_id };
  for (const k of Object.keys(standIn)) if (standIn[k] === undefined) delete standIn[k];
  return [{ kind: 'oversized', bytes: line.bytes, limit: line.limit, standIn }, ev];
}

/** `"key":` where a key can stand: after `{` or `,` (and whitespace), never after a backslash. */
const keyAt = (key: string) => new RegExp(`[{,]\\s*"${key}"\\s*:\\s*`, 'g');

function valueAfter(text: string, key: string): string | undefined {
  const m = keyAt(key).exec(text);
  return m ? text.slice(m.index + m[0].length, m.index + m[0].length + 256) : undefined;
}

function stringField(text: string, key: string): string | undefined {
  const v = valueAfter(text, key);
  const m = v === undefined ? null : /^"((?:[^"\\]|\\.){0,200})"/.exec(v);
  if (!m) return undefined;
  try {
    return JSON.parse(`"${m[1]}"`) as string;
  } catch {
    return undefined;
  }
}

function numberField(text: string, key: string): number | undefined {
  const m = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(valueAfter(text, key) ?? '');
  return m ? Number(m[0]) : undefined;
}

function booleanField(text: string, key: string): boolean | undefined {
  const m = /^(true|false)\b/.exec(valueAfter(text, key) ?? '');
  return m ? m[1] === 'true' : undefined;
}

/** The `usage` object: from its `{` to the matching `}`, strings skipped. */
function usageField(text: string): TokenUsage | undefined {
  const m = keyAt('usage').exec(text);
  if (!m || text[m.index + m[0].length] !== '{') return undefined;
  const start = m.index + m[0].length;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length && i < start + 8192; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      try {
        const u: unknown = JSON.parse(text.slice(start, i + 1));
        if (!isRecord(u)) return undefined;
        return {
          input_tokens: nonNegative(u.input_tokens),
          output_tokens: nonNegative(u.output_tokens),
          cache_creation_input_tokens: nonNegative(u.cache_creation_input_tokens),
          cache_read_input_tokens: nonNegative(u.cache_read_input_tokens),
        };
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The start of the `result` string in the head, unescaped (the line ends before it does). */
function resultText(head: string): string | undefined {
  const m = keyAt('result').exec(head);
  if (!m || head[m.index + m[0].length] !== '"') return undefined;
  let raw = head.slice(m.index + m[0].length + 1, m.index + m[0].length + 1 + RESULT_MAX_BYTES * 2);
  const close = /(?<!\\)(?:\\\\)*"/.exec(raw);
  if (close) raw = raw.slice(0, close.index + close[0].length - 1);
  // Drop a cut escape sequence at the end (`\`, `\u00`) before decoding.
  raw = raw.replace(/\\(?:u[0-9a-fA-F]{0,3})?$/, '');
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}
