import { AgentSdkError, CheckpointTooLargeError } from './errors.js';

/**
 * Serializes a checkpoint state and checks its size.
 * @param limitBytes `welcome.settings.max_checkpoint_bytes`
 * @returns the state as it will be stored (a JSON round trip)
 * @throws CheckpointTooLargeError (code CHECKPOINT_TOO_LARGE) when the JSON is larger than `limitBytes`.
 * @throws AgentSdkError (code CHECKPOINT_NOT_JSON) when the state cannot be serialized.
 */
export function serializeCheckpoint(state: unknown, limitBytes: number): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(state);
  } catch (cause) {
    throw new AgentSdkError('CHECKPOINT_NOT_JSON', `Checkpoint state is not JSON-serializable: ${(cause as Error).message}`, { cause });
  }
  if (text === undefined) {
    throw new AgentSdkError('CHECKPOINT_NOT_JSON', 'Checkpoint state is not JSON-serializable (got undefined, a function or a symbol)');
  }
  const bytes = Buffer.byteLength(text);
  if (bytes > limitBytes) throw new CheckpointTooLargeError(bytes, limitBytes);
  return JSON.parse(text) as unknown;
}
