import type { AgentMessage } from '../protocol/messages.js';
import type { AdapterEvent } from './adapters/StdoutAdapter.js';

type TaskStep = Extract<AgentMessage, { type: 'task.step' }>;

let seq = 0;

/**
 * A `task.step` an agent reported (through an SDK's `ctx.step()`), as the tool call and
 * its answer a stdout adapter would have read from a Claude stream: the same
 * {@link RunGuard} judges both, so a loop reads "called read_file note.txt 5 times …".
 */
export function stepEvents(m: TaskStep): AdapterEvent[] {
  const id = `step-${++seq}`;
  const summary = m.summary ? `${m.name} ${m.summary}` : m.name;
  return [
    { kind: 'tool_call', id, name: m.name, summary, input: m.input_digest },
    { kind: 'tool_result', id, digest: m.output_digest, isError: false },
  ];
}
