/**
 * The first character a terminal would act on (C0 and C1 controls, DEL, and the
 * bidirectional marks and overrides), ignoring the newlines between lines; or
 * undefined. For asserting that a message is safe to print.
 */
export function firstControlChar(text: string): string | undefined {
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    if (c === 0x0a) continue;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return `U+${c.toString(16).padStart(4, '0')}`;
  }
  return undefined;
}
