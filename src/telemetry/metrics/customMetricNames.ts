import type { Labels } from './define.js';

// How agents' metric and attribute names become Prometheus names and labels (docs/metrics.md, "Custom agent metrics").

/** Attribute names that would clash with the supervisor's labels (or Prometheus' own) get an `exported_` prefix. */
export const RENAMED_ATTRIBUTES: ReadonlySet<string> = new Set(['agent', 'role', 'replica', 'instance', 'job', 'le', 'quantile']);
/** The supervisor's own prefix: an agent metric whose Prometheus name starts with it is refused. */
export const RESERVED_PREFIX = 'agentic_';

/** An OTel instrument name as a Prometheus name: `[a-zA-Z0-9_]` only, runs of `_` collapsed, no leading digit. */
export function promName(name: string): string {
  const n = name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/__+/g, '_');
  return /^[0-9]/.test(n) ? `_${n}` : n;
}

/** An attribute key as a label name: as {@link promName}, and `exported_` before a name in {@link RENAMED_ATTRIBUTES}. */
export function promLabel(key: string): string {
  const n = promName(key);
  return RENAMED_ATTRIBUTES.has(n) ? `exported_${n}` : n;
}

/** Sample names a family writes (and, for a counter, its OpenMetrics family name): two families must not share one. */
export function claimsOf(type: string, name: string): string[] {
  switch (type) {
    case 'counter': return [name, name.replace(/_total$/, '')];
    case 'histogram': return [name, `${name}_bucket`, `${name}_sum`, `${name}_count`];
    case 'summary': return [name, `${name}_sum`, `${name}_count`];
    default: return [name];
  }
}

/**
 * A point's attributes as frozen labels (sanitised, renamed, empty values left out:
 * Prometheus treats an empty label as absent) and a key identifying the label set.
 * Two attributes that end up with one label name: the first (by key) wins. The
 * labels object of the previous snapshot is reused when the key is unchanged.
 */
export function attributeLabels(attributes: Record<string, string> | undefined, before: Map<string, Labels>): { key: string; labels: Labels } {
  const out: Record<string, string> = {};
  for (const k of Object.keys(attributes ?? {}).sort()) {
    const v = (attributes as Record<string, string>)[k] as string;
    if (v === '') continue;
    const n = promLabel(k);
    if (!(n in out)) out[n] = v;
  }
  const names = Object.keys(out).sort();
  const key = names.map((n) => `${n}\u0000${out[n]}`).join('\u0001');
  return { key, labels: before.get(key) ?? Object.freeze(Object.fromEntries(names.map((n) => [n, out[n] as string]))) };
}
