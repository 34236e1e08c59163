import { describe, expect, it } from 'vitest';
import { StepLoops } from '../../../src/supervisor/stepLoops.js';

const step = (input: string, output: string) => ({ type: 'task.step' as const, task_id: 'T', name: 'read_file', summary: input, input_digest: input, output_digest: output });
const loop = { maxRepeats: 3, windowMs: 60_000, retry: false };

describe('StepLoops: tool-loop detection on the steps a service replica reports', () => {
  it('stops an assignment at the max_repeats-th identical step, once, naming it; a changing output is no loop', () => {
    const w = new StepLoops(loop);
    const a = {};
    expect(w.onStep(a, step('note.txt', 'same'), 0)).toBeUndefined();
    expect(w.onStep(a, step('build', 'at 10 %'), 1)).toBeUndefined();
    expect(w.onStep(a, step('build', 'at 20 %'), 2)).toBeUndefined();
    expect(w.onStep(a, step('build', 'at 30 %'), 3)).toBeUndefined();
    expect(w.onStep(a, step('note.txt', 'same'), 4)).toBeUndefined();
    expect(w.onStep(a, step('note.txt', 'same'), 5)).toMatchObject({ cause: 'tool_loop', retryable: false, detail: expect.stringMatching(/^called read_file note\.txt 3 times in /) as unknown });
    expect(w.onStep(a, step('note.txt', 'same'), 6)).toBeUndefined(); // already stopped
  });

  it('a new assignment (a retry of the task) starts a clean window; outside the window repeats are forgotten; off watches nothing', () => {
    const w = new StepLoops({ ...loop, retry: true });
    const first = {};
    w.onStep(first, step('x', 'y'), 0);
    w.onStep(first, step('x', 'y'), 1);
    const retry = {};
    expect(w.onStep(retry, step('x', 'y'), 2)).toBeUndefined();
    expect(w.onStep(retry, step('x', 'y'), 70_000)).toBeUndefined(); // the first is out of the 60 s window
    expect(w.onStep(retry, step('x', 'y'), 70_001)).toBeUndefined();
    expect(w.onStep(retry, step('x', 'y'), 70_002)).toMatchObject({ cause: 'tool_loop', retryable: true });
    const off = new StepLoops(undefined);
    expect(off.watching).toBe(false);
    for (let i = 0; i < 10; i++) expect(off.onStep(first, step('x', 'y'), i)).toBeUndefined();
  });
});
