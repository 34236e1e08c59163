import fc from 'fast-check';

/** One change to a JSON document: replace the value at a path, delete it, or add a key beside it. */
export type Mutation = { kind: 'replace' | 'delete' | 'add'; pick: number[]; key: string; value: unknown };

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('replace', 'delete', 'add'),
  pick: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'role', 'title', 'alerts', 'labels')),
  value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ unit: 'binary', maxLength: 50 }), fc.constantFrom(null, -1, 0, 1e308, '', ' ', 'x'.repeat(600))),
});

/**
 * Applies `m` to a copy of `doc`: `pick` walks down containers (each number picks a
 * child, modulo their count) and stops at a leaf or when the picks run out.
 */
export function mutate(doc: unknown, m: Mutation): unknown {
  const root = structuredClone(doc);
  if (typeof root !== 'object' || root === null) return m.kind === 'delete' ? undefined : m.value;
  let parent = root as Record<string, unknown>;
  let key: string | undefined;
  for (const p of m.pick) {
    const keys = Object.keys(parent);
    if (keys.length === 0) break;
    const k = keys[p % keys.length] as string;
    const child = parent[k];
    key = k;
    if (typeof child !== 'object' || child === null) break;
    if (p % 3 === 0) break; // sometimes stop at a container
    parent = child as Record<string, unknown>;
    key = undefined;
  }
  if (m.kind === 'add' || key === undefined) {
    if (Array.isArray(parent)) parent.push(m.value);
    else Object.defineProperty(parent, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  } else if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else parent[key] = m.value;
  return root;
}
