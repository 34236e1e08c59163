import { describe, expect, it } from 'vitest';
import { LineBlocks } from '../../../src/telemetry/LineBlocks.js';

const text = (blocks: { buf: Buffer; used: number }[]) => blocks.map((b) => b.buf.subarray(0, b.used).toString('utf8')).join('');

describe('LineBlocks', () => {
  it('keeps lines in order, with newlines where asked, and counts UTF-8 bytes, not UTF-16 units', () => {
    const q = new LineBlocks(64, 1024);
    q.push('{"a":1}', true);
    q.push('héllo ✓', true); // é is 2 bytes, ✓ is 3
    q.push('x\n', false);
    expect(q.lines).toBe(3);
    expect(q.bytes).toBe(8 + Buffer.byteLength('héllo ✓') + 1 + 2);
    const out = q.take();
    expect(text(out)).toBe('{"a":1}\nhéllo ✓\nx\n');
    expect(out.reduce((n, b) => n + b.lines, 0)).toBe(3);
    expect(q.lines).toBe(0);
    expect(q.bytes).toBe(0);
  });

  it('opens a block large enough for a line longer than the block size', () => {
    const q = new LineBlocks(16, 64);
    const long = 'y'.repeat(200);
    q.push('short', true);
    q.push(long, true);
    const out = q.take();
    expect(out).toHaveLength(2);
    expect(out[1]?.buf.length).toBeGreaterThanOrEqual(201);
    expect(text(out)).toBe(`short\n${long}\n`);
  });

  it('doubles its blocks under load up to the maximum, and halves them again when quiet', () => {
    const q = new LineBlocks(16, 128);
    for (let i = 0; i < 100; i++) q.push('0123456789', true); // 1,100 bytes
    const busy = q.take();
    expect(busy.map((b) => b.buf.length)).toEqual([16, 32, 64, 128, ...Array(busy.length - 4).fill(128)]);
    expect(text(busy)).toBe('0123456789\n'.repeat(100));
    // A quiet turn (under a quarter of the size) halves the size each take, down to the minimum.
    const sizes: number[] = [];
    for (let i = 0; i < 5; i++) {
      q.push('z', true);
      sizes.push(q.take()[0]?.buf.length ?? 0);
    }
    expect(sizes[0]).toBe(128);
    expect(sizes.at(-1)).toBe(16);
  });

  it('reuses a released buffer of the current size instead of allocating', () => {
    const q = new LineBlocks(64, 64);
    q.push('first', true);
    const [b] = q.take();
    q.release(b!.buf);
    q.push('second', true);
    const [c] = q.take();
    expect(c!.buf).toBe(b!.buf);
    expect(text([c!])).toBe('second\n');
    // A buffer far larger than the current size is not kept (the store does not hold a flood's blocks).
    q.release(Buffer.alloc(4096));
    q.push('third', true);
    expect(q.take()[0]!.buf.length).toBe(64);
  });

  it('clear drops every waiting line and says how many', () => {
    const q = new LineBlocks(16, 64);
    for (let i = 0; i < 7; i++) q.push(`line ${i}`, true);
    expect(q.clear()).toBe(7);
    expect(q.lines).toBe(0);
    expect(q.bytes).toBe(0);
    expect(q.take()).toEqual([]);
  });
});
