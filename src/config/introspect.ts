import type { z } from 'zod';

/**
 * Small, read-only walks over a zod 4 schema, used to name the keys a mapping
 * accepts ("did you mean") and to tell sections from scalars. Wrappers
 * (default, prefault, optional, pipe) are looked through.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
type AnySchema = any;

function unwrap(s: AnySchema): AnySchema {
  for (let i = 0; i < 20 && s?._zod?.def; i++) {
    const def = s._zod.def;
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe') s = def.in;
    else break;
  }
  return s;
}

/** The schema found by following `path` (keys and list indexes), or undefined. */
export function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): AnySchema {
  let s: AnySchema = schema;
  for (const k of path) {
    s = unwrap(s);
    if (typeof k === 'number') s = s?._zod?.def?.element;
    else s = s?._zod?.def?.shape?.[k as string];
  }
  return unwrap(s);
}

/** The keys a mapping accepts at `path`, in schema order (empty when it is not a mapping). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  return Object.keys(schemaAt(schema, path)?._zod?.def?.shape ?? {});
}

/** 'object' for a mapping section, 'array' for a list, else 'other'. */
export function kindAt(schema: z.ZodType, path: readonly PropertyKey[]): 'object' | 'array' | 'other' {
  const t = schemaAt(schema, path)?._zod?.def?.type;
  return t === 'object' ? 'object' : t === 'array' ? 'array' : 'other';
}
