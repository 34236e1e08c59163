/**
 * Property-based fuzzing of the agent protocol as the supervisor reads it: the
 * line decoder, the message decoder, and a replica's session fed through the real
 * ProtocolChannel. Whatever an agent writes, the supervisor reports a protocol
 * error or takes a valid message; it never throws, and the session keeps what the
 * first hello said.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/loadConfig.js';
import { decodeAgentLine } from '../../src/protocol/codec.js';
import { LineDecoder } from '../../src/protocol/LineDecoder.js';
import { agentMessage } from '../../src/protocol/messages.js';
import { FixedDelayRestartPolicy } from '../../src/recovery/RestartPolicy.js';
import { ProtocolChannel } from '../../src/supervisor/ProtocolChannel.js';
import { Replica } from '../../src/supervisor/Replica.js';
import { FakeProcess } from '../helpers/FakeProcess.js';
import { fuzzParams } from './fuzzParams.js';

const REASONS = ['empty', 'not_json', 'not_object', 'unknown_type', 'invalid'];
const TYPES = agentMessage.options.map((o) => o.shape.type.value as string);

/** Messages an agent may send, valid ones and near misses (a field replaced or dropped). */
const validMessage = fc.oneof(
  fc.record({ type: fc.constant('hello'), protocol: fc.integer({ min: 1, max: 3 }), pid: fc.integer({ min: 1, max: 1 << 22 }), capabilities: fc.array(fc.constantFrom('tasks', 'checkpoint', 'metrics', 'x')) }),
  fc.record({ type: fc.constant('heartbeat'), heap_used_bytes: fc.nat() }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('pong'), id: fc.integer() }),
  fc.record({ type: fc.constant('task.progress'), task_id: fc.string({ minLength: 1, maxLength: 20 }), progress: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ type: fc.constant('task.finished'), task_id: fc.string({ minLength: 1, maxLength: 20 }), duration_ms: fc.nat() }),
  fc.record({ type: fc.constant('checkpoint'), state: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ type: fc.constant('log'), msg: fc.string(), level: fc.constantFrom('info', 'warn', 'error') }),
  fc.record({ type: fc.constant('connectivity'), target: fc.string({ minLength: 1, maxLength: 50 }), ok: fc.boolean() }),
);
const nearMiss = fc.tuple(validMessage, fc.string({ maxLength: 12 }), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined })).map(([m, key, v]) => {
  const copy: Record<string, unknown> = { ...m };
  const k = Object.keys(copy)[key.length % Object.keys(copy).length] ?? key;
  if (v === undefined) delete copy[k];
  else copy[k] = v;
  return copy;
});
/** One line's text (no newline inside, so that the line count is known). */
const lineText = fc.oneof(
  validMessage.map((m) => JSON.stringify(m)),
  nearMiss.map((m) => JSON.stringify(m)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('', ' ', '\r', '{', '{"type":', '{"type":"hello"}', 'null', '[]', '{"type":"__proto__"}', '{"__proto__":{"type":"hello"}}'),
).map((s) => s.replaceAll('\n', ' '));

/** Cuts a buffer at arbitrary points, as a socket would deliver it. */
const chunked = (buf: Buffer, cuts: number[]): Buffer[] => {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of [...points, buf.length]) {
    if (p > at) out.push(buf.subarray(at, p));
    at = p;
  }
  return out;
};

describe('LineDecoder under arbitrary bytes and chunking', () => {
  it('emits exactly the lines of the stream, drops and reports the oversized ones, and never throws', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 30 }), fc.integer({ min: 1, max: 400 }), (bytes, cuts, max) => {
      const buf = Buffer.from(bytes);
      const lines: string[] = [];
      const oversize: number[] = [];
      const d = new LineDecoder((l) => lines.push(l), max, (n) => oversize.push(n));
      for (const c of chunked(buf, cuts)) d.push(c);
      d.end();
      // the model: split the whole stream on \n
      const parts: Buffer[] = [];
      let at = 0;
      for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, at)) {
        parts.push(buf.subarray(at, i));
        at = i + 1;
      }
      if (at < buf.length) parts.push(buf.subarray(at));
      const expectLines = parts.filter((p) => p.length <= max).map((p) => p.toString('utf8').replace(/\r$/, ''));
      const expectOversize = parts.filter((p) => p.length > max).map((p) => p.length);
      expect(lines).toEqual(expectLines);
      expect(oversize).toEqual(expectOversize);
    }), fuzzParams(400));
  });
});

describe('decodeAgentLine under arbitrary lines', () => {
  it('returns a known message or a known reason, never throws', () => {
    fc.assert(fc.property(lineText, (line) => {
      const r = decodeAgentLine(line);
      if (r.ok) expect(TYPES).toContain(r.message.type);
      else {
        expect(REASONS).toContain(r.reason);
        expect(typeof r.detail).toBe('string');
      }
    }), fuzzParams(1500));
  });
});

describe('a replica\'s session fed arbitrary bytes through the real ProtocolChannel', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });
  const agent = parseConfig({ background: { agents: [{ name: 'qaa', command: ['node', 'qaa.mjs'] }] } }).background.agents[0]!;

  it('keeps the first hello\'s capabilities, welcomes once, stays running, and accounts for every line', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.constantFrom('tasks', 'checkpoint', 'metrics'), { minLength: 1, maxLength: 3 }),
      fc.array(lineText, { maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      async (caps, lines, cuts) => {
        let proc!: FakeProcess;
        const r = new Replica(agent, 0, {
          policy: new FixedDelayRestartPolicy(1000),
          spawnSpec: () => ({ argv: agent.command, env: {}, maxLineBytes: 4096 }),
          restoredCheckpoint: () => null,
          settings: () => ({ heartbeat_interval_ms: 5000, max_checkpoint_bytes: 1024 }),
          createProcess: () => {
            proc = new FakeProcess();
            queueMicrotask(() => proc.emit('spawn'));
            return proc;
          },
        });
        const errors: string[] = [];
        let accepted = 0;
        r.on('protocolError', (reason) => errors.push(reason));
        r.on('message', () => accepted++);
        r.start();
        await vi.advanceTimersByTimeAsync(0);
        // the agent's end of the socket: what the supervisor reads is pushed in
        const socket = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
        new ProtocolChannel(socket as unknown as Socket, { onMessage: (m) => proc.emit('message', m), onError: (reason, d) => proc.emit('protocolError', reason, d) }, 4096);
        const stream = Buffer.from([JSON.stringify({ type: 'hello', protocol: 1, pid: 7, sdk: { name: 'fuzz', version: '1' }, capabilities: caps }), ...lines].map((l) => `${l}\n`).join(''));
        for (const c of chunked(stream, cuts)) socket.push(c);
        await vi.advanceTimersByTimeAsync(0);

        const kept = [caps, 'fuzz@1'];
        expect([r.capabilities, r.sdk]).toEqual(kept);
        expect(proc.sent.filter((m) => m.type === 'welcome')).toHaveLength(1);
        expect(r.state.kind).toBe('running');
        const empty = lines.filter((l) => l.trim() === '').length;
        expect(accepted + errors.length + empty).toBe(lines.length + 1);
        expect(errors.filter((e) => e === 'duplicate_hello').length).toBe(lines.filter((l) => { const d = decodeAgentLine(l); return d.ok && d.message.type === 'hello'; }).length);
        await r.stop('done');
      },
    ), fuzzParams(150));
  });
});
