import { describe, expect, it } from 'vitest';
import { decodeAgentLine, encode } from '../../../src/protocol/codec.js';
import { LineDecoder } from '../../../src/protocol/LineDecoder.js';

describe('protocol codec', () => {
  it.each([
    [{ type: 'hello', protocol: 1, pid: 42, sdk: { name: 'x', version: '1' }, capabilities: ['tasks'] }],
    [{ type: 'heartbeat', heap_used_bytes: 1024, event_loop_lag_ms: 2 }],
    [{ type: 'pong', id: 7 }],
    [{ type: 'task.started', task_id: 'STORY_1' }],
    [{ type: 'task.progress', task_id: 'STORY_1', progress: 0.5, message: 'half' }],
    [{ type: 'task.finished', task_id: 'STORY_1', duration_ms: 12.5, result: { ok: true } }],
    [{ type: 'task.failed', task_id: 'STORY_1', duration_ms: 3, error: { message: 'boom', code: 'E1' }, retryable: false }],
    [{ type: 'checkpoint', state: { n: 1, nested: [1, 2] } }],
    [{ type: 'connectivity', target: 'api.anthropic.com', ok: false, latency_ms: 10, error: 'ECONNREFUSED' }],
    [{ type: 'log', level: 'warn', msg: 'careful', fields: { a: 1 } }],
  ])('round-trips %j', (msg) => {
    const line = encode(msg);
    expect(line.endsWith('\n')).toBe(true);
    const r = decodeAgentLine(line.trimEnd());
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.message).toMatchObject(msg);
  });

  it('fills defaults: capabilities [] and retryable true', () => {
    const h = decodeAgentLine('{"type":"hello","protocol":1,"pid":1}');
    expect(h.ok && h.message.type === 'hello' && h.message.capabilities).toEqual([]);
    const f = decodeAgentLine('{"type":"task.failed","task_id":"a","duration_ms":1,"error":{"message":"x"}}');
    expect(f.ok && f.message.type === 'task.failed' && f.message.retryable).toBe(true);
  });

  it.each([
    ['', 'empty'],
    ['not json', 'not_json'],
    ['{"type":"hello"', 'not_json'],
    ['[1,2]', 'not_object'],
    ['42', 'not_object'],
    ['{"type":"teleport"}', 'unknown_type'],
    ['{"no_type":true}', 'unknown_type'],
    ['{"type":"task.progress","task_id":"a","progress":1.5}', 'invalid'],
    ['{"type":"hello","protocol":"one","pid":1}', 'invalid'],
    ['{"type":"pong"}', 'invalid'],
  ])('reports %j as %s without throwing', (line, reason) => {
    const r = decodeAgentLine(line);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe(reason);
  });

  it('names the bad field of an invalid message', () => {
    const r = decodeAgentLine('{"type":"task.progress","task_id":"a","progress":2}');
    expect(!r.ok && r.detail).toMatch(/task\.progress: progress/);
  });
});

describe('LineDecoder', () => {
  it('splits chunks at newlines, joins partial lines and strips CR', () => {
    const lines: string[] = [];
    const d = new LineDecoder((l) => lines.push(l));
    d.push(Buffer.from('{"a":1}\n{"b"'));
    d.push(Buffer.from(':2}\r\nlast'));
    d.end();
    expect(lines).toEqual(['{"a":1}', '{"b":2}', 'last']);
  });

  it('drops an oversized line, reports its size, and recovers on the next line', () => {
    const lines: string[] = [];
    const over: number[] = [];
    const d = new LineDecoder((l) => lines.push(l), 10, (n) => over.push(n));
    d.push(Buffer.from('0123456789abcdef'));
    d.push(Buffer.from('ghij\nok\n'));
    expect(lines).toEqual(['ok']);
    expect(over).toEqual([20]);
  });

  it('keeps the first and last keepBytes of an oversized line, however it was chunked', () => {
    const line = `HEAD${'.'.repeat(5000)}TAIL`;
    for (const chunk of [1, 7, 64, 3000, 10_000]) {
      const samples: { bytes: number; head: string; tail: string }[] = [];
      const lines: string[] = [];
      const d = new LineDecoder((l) => lines.push(l), 1000, (bytes, s) => samples.push({ bytes, head: s?.head.toString() ?? '', tail: s?.tail.toString() ?? '' }), 16);
      const all = Buffer.from(`${line}\r\nnext\n`);
      for (let i = 0; i < all.length; i += chunk) d.push(all.subarray(i, i + chunk));
      expect(samples, `chunks of ${chunk}`).toEqual([{ bytes: line.length + 1, head: `HEAD${'.'.repeat(12)}`, tail: `${'.'.repeat(12)}TAIL` }]);
      expect(lines).toEqual(['next']);
    }
  });

  it('reads a 16 MiB line whole when the limit allows it, in 64 KiB chunks', () => {
    const lines: string[] = [];
    const d = new LineDecoder((l) => lines.push(l), 64 * 1024 * 1024);
    const big = Buffer.alloc(16 * 1024 * 1024 + 1, 0x61);
    big[big.length - 1] = 0x0a;
    for (let i = 0; i < big.length; i += 65536) d.push(big.subarray(i, i + 65536));
    expect(lines.map((l) => l.length)).toEqual([16 * 1024 * 1024]);
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const lines: string[] = [];
    const d = new LineDecoder((l) => lines.push(l));
    const buf = Buffer.from('héllo ✓\n');
    d.push(buf.subarray(0, 2));
    d.push(buf.subarray(2));
    expect(lines).toEqual(['héllo ✓']);
  });
});
