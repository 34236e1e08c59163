import type { Attributes, Span } from '@opentelemetry/api';
import type { TraceIds } from './tracing.js';

/**
 * The `task.run` span, with @opentelemetry/api and @opentelemetry/core loaded on first
 * use instead of at import: an agent says `hello` before it has loaded them (about
 * 30 ms and 70 modules). connect() starts the load right after `hello`, so it is
 * normally done before the first task arrives; after that, each task calls the
 * loaded module directly (no extra promise on the per-task path).
 */

type Tracing = typeof import('./tracing.js');

let loaded: Tracing | undefined;
let loading: Promise<Tracing> | undefined;

/** Loads the tracing module (once); connect() calls it after `hello`. */
export function loadTracing(): Promise<Tracing> {
  loading ??= import('./tracing.js').then((m) => (loaded = m));
  return loading;
}

/** tracing.withTaskSpan, once the module is loaded (see there). */
export function withTaskSpan<T>(traceparent: string | undefined, attributes: () => Attributes, fn: (ids: TraceIds, span: Span) => Promise<T>): Promise<T> {
  if (loaded) return loaded.withTaskSpan(traceparent, attributes, fn);
  return loadTracing().then((m) => m.withTaskSpan(traceparent, attributes, fn));
}

export type { TraceIds };
