import type { ConfigProblem } from './ConfigError.js';
import { printableBytes } from './printable.js';

/**
 * Turns the bytes of a config file into text, or says why they are not a YAML
 * text file. YAML is UTF-8 text without control characters (its `c-printable`
 * set: tab, line feed, carriage return, and printable Unicode); anything else
 * (an executable, a database, a gzip file given to --config) is reported once,
 * with where the first such byte is and a short, printable excerpt around it,
 * never with the raw bytes.
 */

/** Characters YAML 1.2 does not allow in a stream (outside `c-printable`). */
const NOT_YAML_TEXT = /[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
const BINARY = 'check that --config names your YAML config file';
/** Bytes shown on each side of the offending byte. */
const EXCERPT_BYTES = 16;

/** Offset of the first byte that does not start a valid UTF-8 sequence, or -1. */
function firstInvalidUtf8(bytes: Buffer, text: string): number {
  if (Buffer.byteLength(text, 'utf8') === bytes.length && Buffer.from(text, 'utf8').equals(bytes)) return -1;
  let offset = 0;
  for (const ch of text) {
    const enc = Buffer.from(ch, 'utf8');
    if (!bytes.subarray(offset, offset + enc.length).equals(enc)) return offset;
    offset += enc.length;
  }
  return offset < bytes.length ? offset : -1;
}

function lineAndColumn(bytes: Buffer, offset: number): { line: number; column: number } {
  const before = bytes.subarray(0, offset);
  let line = 1;
  let lineStart = 0;
  for (let i = before.indexOf(0x0a); i !== -1; i = before.indexOf(0x0a, i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

function problemAt(bytes: Buffer, offset: number, what: string, advice: string): ConfigProblem {
  const { line, column } = lineAndColumn(bytes, offset);
  const from = Math.max(0, offset - EXCERPT_BYTES);
  const to = Math.min(bytes.length, offset + EXCERPT_BYTES);
  const excerpt = `${from > 0 ? '…' : ''}${printableBytes(bytes.subarray(from, to))}${to < bytes.length ? '…' : ''}`;
  return {
    path: '(file)',
    message: `expected a YAML text file (UTF-8 without control characters), got ${what} at byte offset ${offset} (line ${line}, column ${column}), near "${excerpt}"; ${advice}`,
  };
}

/** The file's text, or the one problem that says why it is not YAML text (at its first non-text byte). */
export function decodeConfigText(bytes: Buffer): { text: string } | { problem: ConfigProblem } {
  const text = bytes.toString('utf8');
  const invalid = firstInvalidUtf8(bytes, text);
  const m = NOT_YAML_TEXT.exec(text);
  // Before the first invalid sequence, characters and bytes correspond exactly.
  const control = m ? Buffer.byteLength(text.slice(0, m.index), 'utf8') : -1;
  if (m && (invalid === -1 || control < invalid)) {
    const cp = m[0].codePointAt(0) as number;
    const what = cp === 0 ? 'a NUL byte' : `the control character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    // A NUL anywhere: not a text file at all. Otherwise, likely one stray character in a text file.
    if (bytes.includes(0)) return { problem: problemAt(bytes, control, `binary data: ${what}`, BINARY) };
    return { problem: problemAt(bytes, control, what, 'remove it, or write it as an escape inside a double-quoted string (e.g. "\\e" for ESC)') };
  }
  if (invalid !== -1) return { problem: problemAt(bytes, invalid, `binary data: an invalid UTF-8 sequence (byte 0x${(bytes[invalid] as number).toString(16).padStart(2, '0')})`, `${BINARY}; a text file in another encoding must be saved as UTF-8`) };
  return { text };
}
