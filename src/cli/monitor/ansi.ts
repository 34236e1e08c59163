/**
 * ANSI text helpers for the monitor: colours that can be switched off, and
 * width-aware padding and truncation that ignore escape codes. Every glyph the
 * monitor draws is one terminal column wide (no emoji), so a string's width is
 * its code-point count without escapes.
 */

// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-9;?]*[A-Za-z]/g;
// eslint-disable-next-line no-control-regex
const SPLIT = /(\u001b\[[0-9;?]*[A-Za-z])/;

export type Tone = 'ok' | 'warn' | 'bad' | 'dim' | 'plain';

const SGR: Record<Exclude<Tone, 'plain'> | 'bold' | 'inverse', string> = {
  ok: '32',
  warn: '33',
  bad: '31',
  dim: '2',
  bold: '1',
  inverse: '7',
};

/** Colour functions bound to one decision: `on=false` returns text unchanged. */
export interface Paint {
  readonly on: boolean;
  tone(s: string, tone: Tone): string;
  bold(s: string): string;
  inverse(s: string): string;
}

export function paint(on: boolean): Paint {
  const wrap = (code: string, s: string) => (on && s ? `\u001b[${code}m${s}\u001b[0m` : s);
  return {
    on,
    tone: (s, tone) => (tone === 'plain' ? s : wrap(SGR[tone], s)),
    bold: (s) => wrap(SGR.bold, s),
    inverse: (s) => wrap(SGR.inverse, s),
  };
}

export const stripAnsi = (s: string): string => s.replace(ESCAPES, '');

/** Terminal columns taken by `s` (escape codes count zero). */
export const width = (s: string): number => [...stripAnsi(s)].length;

/**
 * Cuts `s` to at most `cols` visible columns, ending with `…` when cut.
 * Escape codes are kept (so colours still close) and never counted.
 */
export function truncate(s: string, cols: number): string {
  if (cols <= 0) return '';
  if (width(s) <= cols) return s;
  let out = '';
  let used = 0;
  for (const token of s.split(SPLIT)) {
    if (token.startsWith('\u001b[')) {
      out += token; // keep colour codes so resets still close
      continue;
    }
    for (const ch of token) {
      if (used < cols - 1) out += ch;
      else if (used === cols - 1) out += '…';
      used++;
    }
  }
  return out;
}

/** Pads (or truncates) `s` to exactly `cols` visible columns. */
export function fit(s: string, cols: number, align: 'left' | 'right' = 'left'): string {
  const t = truncate(s, cols);
  const gap = ' '.repeat(Math.max(0, cols - width(t)));
  return align === 'left' ? t + gap : gap + t;
}

/** Terminal control sequences used by the live screen. */
export const CSI = {
  altScreenOn: '\u001b[?1049h',
  altScreenOff: '\u001b[?1049l',
  hideCursor: '\u001b[?25l',
  showCursor: '\u001b[?25h',
  home: '\u001b[H',
  clearToEnd: '\u001b[J',
  clearLine: '\u001b[K',
} as const;
