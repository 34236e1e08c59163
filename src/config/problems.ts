import type { z } from 'zod';
import type { ConfigProblem } from './ConfigError.js';
import { didYouMean } from './didYouMean.js';
import { describeValue } from './fields.js';
import { keysAt } from './introspect.js';
import { backgroundSchema, configSchema } from './schema.js';

/** `['background', 'agents', 2, 'command']` → `background.agents[2].command`. */
export const formatPath = (p: readonly PropertyKey[]): string =>
  p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '') || '(root)';

function valueAt(root: unknown, p: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of p) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

const EXPECTED: Record<string, string> = { object: 'a mapping', record: 'a mapping', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false' };

function unknownKey(path: readonly PropertyKey[], key: string): ConfigProblem {
  const known = keysAt(configSchema, path);
  let hint = didYouMean(key, known);
  if (path.length === 0 && !hint) {
    // A section written at the top level instead of under `background:`.
    const inner = didYouMean(key, Object.keys(backgroundSchema.shape));
    if (inner) hint = `background.${inner}`;
  }
  return {
    path: formatPath([...path, key]),
    message: `unknown key${hint ? `; did you mean "${hint}"?` : ''} (expected one of: ${known.join(', ')})`,
  };
}

/** Maps zod issues to problems that name the key, what was expected and what was found. */
export function toProblems(error: z.ZodError, raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push(unknownKey(issue.path, key));
    } else if (issue.code === 'invalid_type') {
      const expected = EXPECTED[issue.expected] ?? `a ${issue.expected}`;
      problems.push({ path: formatPath(issue.path), message: `expected ${expected}, got ${describeValue(valueAt(raw, issue.path))}` });
    } else {
      problems.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return problems;
}
