/** Stable codes carried by every error the SDK throws or rejects with. */
export type AgentErrorCode =
  | 'INVALID_FD'
  | 'WELCOME_TIMEOUT'
  | 'CHANNEL_CLOSED'
  | 'CHECKPOINT_TOO_LARGE'
  | 'CHECKPOINT_NOT_JSON'
  | 'INVALID_OPTION'
  /** `ctx.signal.reason` when the supervisor cancelled the task. */
  | 'CANCELLED'
  /** `ctx.signal.reason` when the agent is shutting down. */
  | 'SHUTDOWN';

/** Base class of the SDK's own errors. `code` is stable; `message` says what to do next. */
export class AgentSdkError extends Error {
  override readonly name: string = 'AgentSdkError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `agent.checkpoint()` was given a state whose JSON is larger than `welcome.settings.max_checkpoint_bytes`. */
export class CheckpointTooLargeError extends AgentSdkError {
  override readonly name = 'CheckpointTooLargeError';
  constructor(
    /** Serialized size of the rejected state, in bytes. */
    readonly bytes: number,
    /** The limit the supervisor announced, in bytes. */
    readonly limitBytes: number,
  ) {
    super(
      'CHECKPOINT_TOO_LARGE',
      `Checkpoint state is ${bytes} bytes of JSON, above the supervisor's limit of ${limitBytes} bytes ` +
        '(background.protocol.max_checkpoint_bytes). Store less (e.g. ids or offsets instead of data) or raise the limit.',
    );
  }
}

/**
 * Throw from a task handler to fail the task permanently: the SDK reports
 * `task.failed` with `retryable: false`, so the queue does not retry it.
 */
export class PermanentTaskError extends Error {
  override readonly name = 'PermanentTaskError';
  readonly retryable = false;
  constructor(
    message: string,
    /** Optional machine-readable code, reported as `error.code`. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
