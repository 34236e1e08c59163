import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import type { ConfigProblem } from './ConfigError.js';
import { formatPath } from './problems.js';

/**
 * Parses YAML text. Syntax errors are reported with their line and column;
 * duplicate keys are reported with their key path and both lines (YAML forbids
 * them, and silently keeping the last one hides mistakes). `<<` merge keys work.
 */
export function readYaml(text: string): { value: unknown; problems: ConfigProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: false, merge: true });
  const problems: ConfigProblem[] = doc.errors.map((e) => ({
    path: e.linePos ? `(line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '(yaml)',
    message: `invalid YAML: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
  }));
  const where = (node: Node | null | undefined) => {
    const offset = node?.range?.[0];
    if (offset === undefined) return 'an unknown position';
    const { line, col } = lineCounter.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  const walk = (node: unknown, path: PropertyKey[], ancestors: readonly unknown[]): void => {
    if (isAlias(node)) {
      // An alias to a mapping or list that contains it would make an endless value.
      if (ancestors.includes(node.resolve(doc))) problems.push({ path: formatPath(path), message: `expected a value, got an alias *${node.source} to a node that contains it (at ${where(node)})` });
      return;
    }
    const inside = [...ancestors, node];
    if (isMap(node)) {
      const seen = new Map<string, Node>();
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (key === '<<') {
          walk(pair.value, path, inside);
          continue;
        }
        const first = seen.get(key);
        if (first) problems.push({ path: formatPath([...path, key]), message: `expected each key once, got it again at ${where(pair.key)} (first at ${where(first)}); keep one of them` });
        else seen.set(key, pair.key);
        walk(pair.value, [...path, key], inside);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i], inside));
    }
  };
  if (!doc.errors.length) walk(doc.contents, [], []);
  return { value: problems.length ? undefined : doc.toJS({ maxAliasCount: 100 }), problems };
}
