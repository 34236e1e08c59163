import { createClaudeStreamJsonAdapter } from './claudeStreamJson.js';
import { createNdjsonAdapter } from './ndjsonAdapter.js';
import type { StdoutAdapter } from './StdoutAdapter.js';

export type { AdapterEvent, StdoutAdapter } from './StdoutAdapter.js';
export { createClaudeStreamJsonAdapter } from './claudeStreamJson.js';
export { createNdjsonAdapter } from './ndjsonAdapter.js';

/** The `stdout_adapter` values an agent's config accepts. */
export type StdoutAdapterKind = 'none' | 'ndjson' | 'claude-stream-json';

/**
 * A fresh adapter for one process's stdout (adapters keep per-task state such as the
 * turn count, so never share one between processes).
 * @returns undefined for `none`: stdout is then only captured as log text.
 * @throws {TypeError} when `kind` is not a known adapter (config validation prevents this).
 */
export function createStdoutAdapter(kind: StdoutAdapterKind): StdoutAdapter | undefined {
  switch (kind) {
    case 'none':
      return undefined;
    case 'ndjson':
      return createNdjsonAdapter();
    case 'claude-stream-json':
      return createClaudeStreamJsonAdapter();
    default: {
      const unknownKind: never = kind;
      throw new TypeError(`Expected the \`stdout_adapter\` option to be one of none, ndjson, claude-stream-json, got \`${String(unknownKind)}\``);
    }
  }
}
