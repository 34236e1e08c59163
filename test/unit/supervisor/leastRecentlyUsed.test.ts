import { describe, expect, it } from 'vitest';
import { leastRecentlyUsed } from '../../../src/supervisor/leastRecentlyUsed.js';

const r = (name: string, index: number, lastAssignedAt?: number) => ({ name, index, lastAssignedAt });

describe('leastRecentlyUsed', () => {
  it('puts never-assigned items first, in index order', () => {
    const order = leastRecentlyUsed([r('qaa-0', 0, 1000), r('qaa-1', 1), r('qaa-2', 2)]).map((x) => x.name);
    expect(order).toEqual(['qaa-1', 'qaa-2', 'qaa-0']);
  });

  it('orders assigned items by their last assignment, oldest first', () => {
    const order = leastRecentlyUsed([r('a-0', 0, 3000), r('a-1', 1, 1000), r('a-2', 2, 2000)]).map((x) => x.name);
    expect(order).toEqual(['a-1', 'a-2', 'a-0']);
  });

  it('breaks ties by index and leaves the input untouched', () => {
    const input = [r('a-1', 1, 500), r('a-0', 0, 500)];
    expect(leastRecentlyUsed(input).map((x) => x.name)).toEqual(['a-0', 'a-1']);
    expect(input.map((x) => x.name)).toEqual(['a-1', 'a-0']);
  });

  it('alternates two replicas that each finish before the next task arrives', () => {
    // The demo's failure: qaa-0 finished every task before the next came, and being first in
    // config order it took all 142. Simulate: each step assigns to the first idle in LRU order.
    const reps = [r('qaa-0', 0), r('qaa-1', 1)];
    const got: string[] = [];
    for (let t = 1; t <= 6; t++) {
      const pick = leastRecentlyUsed(reps)[0]!;
      pick.lastAssignedAt = t * 10;
      got.push(pick.name);
    }
    expect(got).toEqual(['qaa-0', 'qaa-1', 'qaa-0', 'qaa-1', 'qaa-0', 'qaa-1']);
  });
});
