import { createHash } from 'node:crypto';
import type { AgentMessageInput } from '../protocol/messages.js';

/** Longest step name and input summary sent, characters (the protocol's limits are 200). */
const NAME_CHARS = 200;
const SUMMARY_CHARS = 80;

/** Object keys in code-point order at every depth: the same value gives the same text. */
function sortKeys(_key: string, v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries);
}

/** Canonical JSON of a step's input or output; a value JSON cannot hold is described by its text. */
export function canonicalJson(v: unknown): string {
  try {
    return JSON.stringify(v === undefined ? null : v, sortKeys) ?? 'null';
  } catch {
    return JSON.stringify(String(v));
  }
}

/** SHA-256 of the canonical JSON, hex: only equality matters to the supervisor. */
export const stepDigest = (v: unknown): string => createHash('sha256').update(canonicalJson(v)).digest('hex');

/** A short human form of a step's input: a string itself, an object's scalar values, else its JSON. */
export function stepSummary(input: unknown): string | undefined {
  if (input === undefined || input === null) return undefined;
  let text: string;
  if (typeof input === 'string') text = input;
  else if (typeof input === 'object' && !Array.isArray(input)) {
    const scalars = Object.values(input as Record<string, unknown>).filter((x) => ['string', 'number', 'boolean'].includes(typeof x));
    text = scalars.length ? scalars.map(String).join(' ') : canonicalJson(input);
  } else text = canonicalJson(input);
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > SUMMARY_CHARS ? `${line.slice(0, SUMMARY_CHARS - 1)}…` : line || undefined;
}

/** The `task.step` message for one step of task `taskId` (protocol limits applied). */
export function stepMessage(taskId: string, name: string, input: unknown, output: unknown): AgentMessageInput {
  const n = String(name).trim().slice(0, NAME_CHARS) || 'step';
  return { type: 'task.step', task_id: taskId, name: n, summary: stepSummary(input), input_digest: stepDigest(input), output_digest: stepDigest(output) };
}
