/**
 * Values computed once per scrape, so every family of one scrape sees the same
 * state (agent_up agrees with agent_state) and the queue is read once. A value is
 * kept while a render runs (`during`), which may yield between families; outside
 * one, until the next microtask.
 */
export class ScrapeSnapshot {
  private depth = 0;
  private readonly clears = new Set<() => void>();

  memo<T>(compute: () => T): () => T {
    let cached: { value: T } | undefined;
    const clear = () => { cached = undefined; };
    this.clears.add(clear);
    return () => {
      if (!cached) {
        cached = { value: compute() };
        if (this.depth === 0) queueMicrotask(clear);
      }
      return cached.value;
    };
  }

  async during<T>(render: () => Promise<T>): Promise<T> {
    this.depth++;
    try {
      return await render();
    } finally {
      if (--this.depth === 0) for (const clear of this.clears) clear();
    }
  }
}
