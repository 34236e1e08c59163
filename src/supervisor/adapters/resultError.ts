import type { AdapterEvent } from './StdoutAdapter.js';

type ResultEvent = Extract<AdapterEvent, { kind: 'result' }>;

/**
 * The task error for a run whose result reported failure, naming the subtype and
 * the turns it took: `claude result error_max_turns after 30 turns: <text>`.
 * `success` with `is_error: true` (an API error such as a bad key) reads
 * `claude result success with is_error …`.
 */
export function resultErrorText(r: ResultEvent): string {
  const subtype = r.subtype === undefined ? 'without a subtype' : r.subtype === 'success' ? 'success with is_error' : r.subtype;
  const turns = r.num_turns === undefined ? '' : ` after ${r.num_turns} ${r.num_turns === 1 ? 'turn' : 'turns'}`;
  return `claude result ${subtype}${turns}: ${r.result ?? '(no error text)'}`;
}
