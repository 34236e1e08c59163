/**
 * Makes text from a config file safe to print: nothing a terminal would act on
 * (escape sequences, bidi overrides, control characters) and a bounded length.
 * A hostile or binary config file must not paint the user's terminal or flood it.
 */

/** Control (Cc), format (Cf: bidi overrides, zero-width), private-use, unassigned and surrogate code points, and line/paragraph separators. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\u2028\u2029]/u;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `\xNN` for a code point below 0x100, `\u{…}` above. */
export function escapeCodePoint(cp: number): string {
  return cp < 0x100 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

/**
 * Escapes every unsafe character (see UNSAFE) and cuts the result at `maxChars`
 * characters of the input, saying how many were left out.
 */
export function printable(text: string, maxChars = 300): string {
  let out = '';
  let count = 0;
  for (const ch of text) {
    if (count === maxChars) {
      const rest = [...text].length - count;
      return `${out}… (${rest} more character${rest === 1 ? '' : 's'})`;
    }
    count++;
    out += UNSAFE.test(ch) ? (NAMED[ch] ?? escapeCodePoint(ch.codePointAt(0) as number)) : ch;
  }
  return out;
}

/** Bytes as printable ASCII, everything else (and `\` and `"`) as `\n`, `\t`, `\r` or `\xNN`. */
export function printableBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    out += b >= 0x20 && b < 0x7f && b !== 0x5c && b !== 0x22 ? ch : (NAMED[ch] ?? escapeCodePoint(b));
  }
  return out;
}
