/**
 * Longest agent output line the log store writes as it is, in characters. A
 * longer line (a 16 MB claude `result`, a tool reading a large file) is stored
 * with its long strings cut, so the log keeps its shape and its small fields
 * (usage, cost, turns) while its size stays bounded.
 */
export const MAX_LOG_LINE_CHARS = 256 * 1024;
/** Longest string kept whole inside a record that was over {@link MAX_LOG_LINE_CHARS}. */
export const MAX_LOG_STRING_CHARS = 8 * 1024;

/** `text` cut to `max` characters, ending in `… [<n> chars, cut]` when cut. */
export function cutText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length} chars, cut]`;
}

/**
 * A copy of a parsed JSON value whose strings longer than `maxChars` are cut with
 * a marker. Objects and arrays keep their keys and order; numbers and booleans are
 * untouched. Iterative depth is bounded by the JSON itself (already parsed).
 */
export function shrinkStrings(value: unknown, maxChars = MAX_LOG_STRING_CHARS): unknown {
  if (typeof value === 'string') return cutText(value, maxChars);
  if (Array.isArray(value)) return value.map((v) => shrinkStrings(v, maxChars));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = shrinkStrings(v, maxChars);
    return out;
  }
  return value;
}
