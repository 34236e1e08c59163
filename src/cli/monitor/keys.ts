/** The keys the monitor understands; anything else is `other`. */
export type Key = 'up' | 'down' | 'pageup' | 'pagedown' | 'home' | 'end' | 'enter' | 'escape' | 'backspace' | 'ctrl-c' | 'q' | 'r' | 'l' | 'y' | 'n' | 'other';

const SEQUENCES: [string, Key][] = [
  ['\u001b[A', 'up'],
  ['\u001bOA', 'up'],
  ['\u001b[B', 'down'],
  ['\u001bOB', 'down'],
  ['\u001b[5~', 'pageup'],
  ['\u001b[6~', 'pagedown'],
  ['\u001b[H', 'home'],
  ['\u001b[1~', 'home'],
  ['\u001b[F', 'end'],
  ['\u001b[4~', 'end'],
];

const SINGLE: Record<string, Key> = {
  '\r': 'enter',
  '\n': 'enter',
  '\u0003': 'ctrl-c',
  '\u007f': 'backspace',
  '\b': 'backspace',
  k: 'up',
  j: 'down',
  q: 'q',
  Q: 'q',
  r: 'r',
  R: 'r',
  l: 'l',
  L: 'l',
  y: 'y',
  Y: 'y',
  n: 'n',
  N: 'n',
};

// eslint-disable-next-line no-control-regex
const UNKNOWN_SEQUENCE = /^\u001b(\[[0-9;]*[~A-Za-z]|O[A-Za-z])/;

/**
 * Splits raw-mode input into keys. One read can hold several keys (typing
 * fast, or tmux send-keys), so the whole chunk is consumed. An ESC that does
 * not start a known sequence is the Escape key; unknown sequences are skipped whole.
 */
export function parseKeys(chunk: string): Key[] {
  const keys: Key[] = [];
  let i = 0;
  while (i < chunk.length) {
    const seq = SEQUENCES.find(([s]) => chunk.startsWith(s, i));
    if (seq) {
      keys.push(seq[1]);
      i += seq[0].length;
      continue;
    }
    if (chunk[i] === '\u001b') {
      const m = UNKNOWN_SEQUENCE.exec(chunk.slice(i));
      if (m) {
        keys.push('other');
        i += m[0].length;
      } else {
        keys.push('escape');
        i += 1;
      }
      continue;
    }
    const ch = String.fromCodePoint(chunk.codePointAt(i) as number);
    keys.push(SINGLE[ch] ?? 'other');
    i += ch.length;
  }
  return keys;
}
