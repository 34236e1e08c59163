/** Small formatting helpers shared by the commands. Colour only on a TTY, never with NO_COLOR. */
export const useColor = (stream: NodeJS.WriteStream = process.stdout): boolean => Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';

const wrap = (code: number) => (s: string, on = useColor()) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);
export const green = wrap(32);
export const yellow = wrap(33);
export const red = wrap(31);
export const dim = wrap(2);
export const bold = wrap(1);

export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

export function fmtBytes(b: number | null | undefined): string {
  if (b === null || b === undefined) return '-';
  if (b < 1024 * 1024) return `${Math.round(b / 1024)}KB`;
  if (b < 1024 ** 3) return `${Math.round(b / 1024 / 1024)}MB`;
  return `${(b / 1024 ** 3).toFixed(1)}GB`;
}

/** Renders rows as an aligned text table (ANSI codes do not count toward widths). */
export function table(headers: string[], rows: string[][]): string {
  // eslint-disable-next-line no-control-regex
  const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '').length;
  const widths = headers.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => c + ' '.repeat(Math.max(0, (widths[i] as number) - visible(c)))).join('  ').trimEnd();
  return [line(headers.map((h) => bold(h))), ...rows.map(line)].join('\n');
}
