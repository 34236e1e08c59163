/** Small text and JSON helpers shared by the stdout adapters. */

export type Json = Record<string, unknown>;

/** Longest final result text kept, in UTF-8 bytes (the adapter interface's limit). */
export const RESULT_MAX_BYTES = 4096;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A finite, non-negative number, or undefined. */
export function nonNegative(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** At most `max` characters (code points), ending in an ellipsis when cut. */
export function truncateChars(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = Array.from(text.length > max * 2 ? text.slice(0, max * 2) : text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * At most `max` UTF-8 bytes, never splitting a character. A cut text ends in an
 * ellipsis, or, with `marker`, in `… [<bytes> bytes, cut]` (the text's full size),
 * still within `max`. Linear in `max`, not in the text: a 16 MB text is not copied.
 */
export function truncateBytes(text: string, max: number, marker = false): string {
  // Every UTF-16 code unit is at most 3 UTF-8 bytes: short texts need no counting.
  if (text.length * 3 <= max || Buffer.byteLength(text, 'utf8') <= max) return text;
  const suffix = marker ? `… [${Buffer.byteLength(text, 'utf8')} bytes, cut]` : '…';
  const room = max - Buffer.byteLength(suffix, 'utf8');
  // `room` characters are at least `room` bytes: encoding only them bounds the work.
  const bytes = Buffer.from(text.slice(0, room), 'utf8');
  return `${bytes.subarray(0, room).toString('utf8').replace(/\uFFFD+$/, '')}${suffix}`;
}

export function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function pick(obj: Json, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (obj[key] !== undefined) out[key] = obj[key];
  return out;
}
