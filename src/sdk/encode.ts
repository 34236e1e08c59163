import type { AgentMessageInput } from '../protocol/messages.js';

/**
 * A value already encoded as JSON text (a task's result), so that it is serialized
 * once: `encodeMessage` splices the text into the line as it is, and any other
 * `JSON.stringify` of the message (a custom transport) still gets the value.
 */
export class JsonText {
  constructor(readonly text: string) {}

  toJSON(): unknown {
    return JSON.parse(this.text) as unknown;
  }
}

/**
 * The NDJSON line for one message, newline included. A `result` holding a JsonText
 * must be the message's last field (runWork builds `task.finished` that way): its text
 * is appended where `JSON.stringify` would have put the value, so the line is the
 * same bytes as `JSON.stringify(message)`. @throws what JSON.stringify throws.
 */
export function encodeMessage(message: AgentMessageInput): string {
  const result = (message as { result?: unknown }).result;
  if (result instanceof JsonText) {
    const head = JSON.stringify({ ...message, result: undefined });
    return `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"result":${result.text}}\n`;
  }
  return `${JSON.stringify(message)}\n`;
}
