/**
 * A task's abort state, with the AbortController made only when the handler reads
 * `ctx.signal`: creating a controller and its signal costs several microseconds
 * (Node builds the signal's EventTarget on first access), which most tasks never
 * need. `abort()` before that is remembered, and the signal is created already
 * aborted with the same reason. Like AbortController, only the first abort counts.
 */
export class TaskAbort {
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private isAborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.isAborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.isAborted;
  }

  get reason(): unknown {
    return this.abortReason;
  }

  abort(reason: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}
