import type { ExpositionFormat } from './exposition.js';

export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  exemplar?: { labels: Record<string, string>; value: number; timestamp: number | undefined } | undefined;
}

/** A parsed exposition with lookups by sample name and exact label set. */
export interface Parsed {
  families: Map<string, { type: string; help: string }>;
  samples: ExpositionSample[];
  /** Samples named `name`, in exposition order. */
  series(name: string): ExpositionSample[];
  /** The sample named `name` with exactly `labels`. */
  sample(name: string, labels: Record<string, string>): ExpositionSample | undefined;
  value(name: string, labels: Record<string, string>): number | undefined;
  /** Sorted label names used by the samples named `name`. */
  labelNames(name: string): string[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LINE = new RegExp(`^(${NAME})(?:\\{(.*?)\\})? (\\S+)(?: (-?[0-9.e+]+))?(?: # \\{(.*?)\\} (\\S+)(?: (\\S+))?)?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

function parseLabels(text: string | undefined, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (!m) throw new SyntaxError(`malformed labels in: ${line}`);
    const [, k = '', v = ''] = m;
    if (k in out) throw new SyntaxError(`duplicate label ${k} in: ${line}`);
    out[k] = v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return out;
}

/** Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case (prom-client writes `Nan`). */
function parseValue(v: string, line: string): number {
  if (/^nan$/i.test(v)) return NaN;
  if (/^[+-]?inf$/i.test(v)) return v.startsWith('-') ? -Infinity : Infinity;
  const n = Number(v);
  if (v.trim() === '' || Number.isNaN(n)) throw new SyntaxError(`malformed value ${v} in: ${line}`);
  return n;
}

/** The family a sample belongs to, given the family's declared type. */
function familyOf(sample: string, families: Map<string, { type: string }>, format: ExpositionFormat): string | undefined {
  for (const [suffix, types] of [['', ['gauge', 'untyped', 'unknown', ...(format === 'prometheus' ? ['counter'] : [])]], ['_total', format === 'openmetrics' ? ['counter'] : []], ['_bucket', ['histogram']], ['_sum', ['histogram', 'summary']], ['_count', ['histogram', 'summary']]] as const) {
    if (!sample.endsWith(suffix)) continue;
    const f = families.get(sample.slice(0, sample.length - suffix.length));
    if (f && (types as readonly string[]).includes(f.type)) return sample.slice(0, sample.length - suffix.length);
  }
  return undefined;
}

/**
 * A strict parser of the Prometheus text format (0.0.4) and OpenMetrics 1.0 as
 * prom-client writes them: every sample must follow the HELP and TYPE of its
 * family, families must be contiguous, series unique; OpenMetrics must end with
 * `# EOF`, name counter families without `_total`, and carry exemplars only on
 * counter and histogram-bucket samples; the Prometheus format carries none.
 * @throws SyntaxError naming the offending line.
 */
export function parseExposition(text: string, format: ExpositionFormat): Parsed {
  const families = new Map<string, { type: string; help: string }>();
  const samples: ExpositionSample[] = [];
  const seen = new Set<string>();
  const closed = new Set<string>();
  let current: string | undefined;
  if (!text.endsWith('\n')) throw new SyntaxError('the exposition must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (format === 'openmetrics' && lines.pop() !== '# EOF') throw new SyntaxError('OpenMetrics must end with "# EOF"');
  for (const line of lines) {
    if (line === '') {
      if (format === 'openmetrics') throw new SyntaxError('OpenMetrics allows no blank lines');
      continue;
    }
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (closed.has(name)) throw new SyntaxError(`family ${name} is not contiguous: ${line}`);
      if (current && current !== name) closed.add(current);
      current = name;
      const f = families.get(name) ?? { type: 'untyped', help: '' };
      if (kind === 'HELP') f.help = rest;
      else f.type = rest;
      if (format === 'openmetrics' && f.type === 'counter' && name.endsWith('_total')) throw new SyntaxError(`an OpenMetrics counter family is named without _total: ${line}`);
      families.set(name, f);
      continue;
    }
    if (line.startsWith('#')) throw new SyntaxError(`unexpected comment: ${line}`);
    const m = LINE.exec(line);
    if (!m) throw new SyntaxError(`malformed sample: ${line}`);
    const [, name = '', labelText, value = '', , exLabels, exValue, exTs] = m;
    const family = familyOf(name, families, format);
    if (!family || family !== current) throw new SyntaxError(`sample outside its family's HELP/TYPE block: ${line}`);
    const labels = parseLabels(labelText, line);
    const key = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}}`;
    if (seen.has(key)) throw new SyntaxError(`duplicate series: ${line}`);
    seen.add(key);
    const sample: ExpositionSample = { name, labels, value: parseValue(value, line) };
    if (exValue !== undefined) {
      if (format === 'prometheus') throw new SyntaxError(`the Prometheus text format has no exemplars: ${line}`);
      if (!name.endsWith('_total') && !name.endsWith('_bucket')) throw new SyntaxError(`exemplar on a sample that cannot carry one: ${line}`);
      sample.exemplar = { labels: parseLabels(exLabels, line), value: parseValue(exValue, line), timestamp: exTs === undefined ? undefined : parseValue(exTs, line) };
    }
    samples.push(sample);
  }
  const same = (a: Record<string, string>, b: Record<string, string>) => Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
  return {
    families,
    samples,
    series: (name) => samples.filter((s) => s.name === name),
    sample: (name, labels) => samples.find((s) => s.name === name && same(s.labels, labels)),
    value: (name, labels) => samples.find((s) => s.name === name && same(s.labels, labels))?.value,
    labelNames: (name) => [...new Set(samples.filter((s) => s.name === name).flatMap((s) => Object.keys(s.labels)))].sort(),
  };
}
