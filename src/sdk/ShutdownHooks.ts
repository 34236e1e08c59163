import type { Logger } from './logger.js';

/** Why the agent is stopping: a supervisor `shutdown`, the channel's end, a signal, or `agent.close()`. */
export interface ShutdownInfo {
  reason: string;
  /** The time the hooks were given, in milliseconds. */
  deadlineMs: number;
}

export type ShutdownHook = (info: ShutdownInfo) => Promise<void> | void;

/** Shutdown hooks, run in registration order; a failing hook is logged and does not stop the others. */
export class ShutdownHooks {
  private readonly hooks: ShutdownHook[] = [];

  constructor(private readonly logger: Logger) {}

  /** Registers a hook; the returned function unregisters it. */
  add(hook: ShutdownHook): () => void {
    this.hooks.push(hook);
    return () => {
      const index = this.hooks.indexOf(hook);
      if (index >= 0) this.hooks.splice(index, 1);
    };
  }

  async run(info: ShutdownInfo): Promise<void> {
    for (const hook of this.hooks.slice()) {
      try {
        await hook(info);
      } catch (err) {
        this.logger.error({ err }, 'shutdown hook failed');
      }
    }
  }
}

/** Resolves with true when `work` settled within `ms`, false when the deadline came first. */
export function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, ms));
    work.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}
