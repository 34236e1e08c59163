import { constants, performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

export interface RuntimeSample {
  heap_used_bytes: number;
  /** Largest event-loop delay seen since the previous sample, in milliseconds. */
  event_loop_lag_ms: number;
  /** Heap in use right after the most recent major GC, when one happened. */
  heap_after_gc_bytes?: number;
}

/**
 * Runtime figures for heartbeats: heap in use, event-loop lag and heap after the
 * last major GC (from a PerformanceObserver on `gc` entries).
 *
 * Lag is measured by timer drift: an unref()'d timer ticks every `resolutionMs`
 * and notes how late it ran. A sample also counts how overdue the next tick is,
 * so a block that just ended is reported at once and not twice. (The native
 * `monitorEventLoopDelay` histogram drops the interval spanning a reset().)
 */
export class RuntimeStats {
  private readonly timer: NodeJS.Timeout;
  private readonly gcObserver: PerformanceObserver | undefined;
  private heapAfterGc: number | undefined;
  private lastTick = performance.now();
  private windowStart = this.lastTick;
  private maxLag = 0;

  constructor(private readonly resolutionMs = 25) {
    this.timer = setInterval(() => this.tick(), resolutionMs);
    this.timer.unref();
    this.gcObserver = this.observeGc();
  }

  /** Returns the figures and starts a new lag window. */
  sample(): RuntimeSample {
    const now = performance.now();
    const lag = Math.max(this.maxLag, this.overdue(now));
    this.maxLag = 0;
    this.windowStart = now;
    const sample: RuntimeSample = { heap_used_bytes: process.memoryUsage().heapUsed, event_loop_lag_ms: Math.round(lag * 1000) / 1000 };
    if (this.heapAfterGc !== undefined) sample.heap_after_gc_bytes = this.heapAfterGc;
    return sample;
  }

  stop(): void {
    clearInterval(this.timer);
    this.gcObserver?.disconnect();
  }

  private tick(): void {
    const now = performance.now();
    this.maxLag = Math.max(this.maxLag, this.overdue(now));
    this.lastTick = now;
  }

  /** How late the next tick is at `now`, counting only the part inside the current window. */
  private overdue(now: number): number {
    return Math.max(0, now - Math.max(this.lastTick + this.resolutionMs, this.windowStart));
  }

  private observeGc(): PerformanceObserver | undefined {
    try {
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
          if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) this.heapAfterGc = getHeapStatistics().used_heap_size;
        }
      });
      observer.observe({ entryTypes: ['gc'] });
      return observer;
    } catch {
      return undefined;
    }
  }
}
