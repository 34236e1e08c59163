import { agentMessage, type AgentMessage, type SupervisorMessage } from './messages.js';

export type DecodeResult =
  | { ok: true; message: AgentMessage }
  | { ok: false; reason: 'empty' | 'not_json' | 'not_object' | 'unknown_type' | 'invalid'; detail: string };

/** Encodes one message as an NDJSON line (with the trailing newline). */
export function encode(message: SupervisorMessage | Record<string, unknown>): string {
  return `${JSON.stringify(message)}\n`;
}

/** Decodes one agent line. Never throws: malformed input is a result, not an exception. */
export function decodeAgentLine(line: string): DecodeResult {
  const trimmed = line.trim();
  if (trimmed === '') return { ok: false, reason: 'empty', detail: 'empty line' };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    return { ok: false, reason: 'not_json', detail: (err as Error).message };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not_object', detail: `expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}` };
  }
  const parsed = agentMessage.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data };
  const type = (value as { type?: unknown }).type;
  const known = agentMessage.options.some((o) => o.shape.type.value === type);
  if (!known) return { ok: false, reason: 'unknown_type', detail: `unknown message type ${JSON.stringify(type)}` };
  const issue = parsed.error.issues[0];
  return { ok: false, reason: 'invalid', detail: `${String(type)}: ${issue ? `${issue.path.join('.') || '(message)'}: ${issue.message}` : 'invalid'}` };
}
