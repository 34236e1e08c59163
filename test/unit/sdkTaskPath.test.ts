/**
 * The Node SDK's per-task path, in process: write coalescing in the channel, the
 * result encoded once, the lazily created AbortController and child logger, the
 * per-task log levels, and the `task.run` span with and without a tracer provider.
 * (test/unit/sdk.test.ts drives real agent processes; this file also starts one to
 * check that a synchronous process.exit() right after a message loses nothing.)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { context, ROOT_CONTEXT, trace, type ContextManager, type Span } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import type { AgentMessageInput } from '../../src/protocol/messages.js';
import { Agent } from '../../src/sdk/Agent.js';
import { Channel } from '../../src/sdk/Channel.js';
import { encodeMessage, JsonText } from '../../src/sdk/encode.js';
import { createAgentLogger } from '../../src/sdk/logger.js';
import type { TaskContext } from '../../src/sdk/runWork.js';
import type { AssignedTask, TaskHandler } from '../../src/sdk/TaskRunner.js';

type Msg = Record<string, unknown> & { type: string };
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

/** An in-process Agent whose transport encodes each message as the channel does. */
function inProcessAgent(level = 'info') {
  const messages: Msg[] = [];
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const transport = {
    send(message: AgentMessageInput) {
      messages.push(JSON.parse(encodeMessage(message)) as Msg);
      for (const w of waiters.splice(0)) w();
    },
    close: () => Promise.resolve(),
  };
  const logger = createAgentLogger({ agent: 'qaa', agent_id: 'qaa-0', role: 'qaa' }, level, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const agent = new Agent({
    identity: { name: 'qaa', id: 'qaa-0', role: 'qaa', replica: 0 },
    restoredState: null,
    settings: { heartbeat_interval_ms: 60_000, max_checkpoint_bytes: 1024 },
    logger,
    transport,
    exitOnShutdown: false,
    exit: () => undefined,
    shutdownTimeoutMs: 1000,
    handleSignals: false,
  });
  const until = async (pred: (m: Msg) => boolean): Promise<Msg> => {
    for (;;) {
      const found = messages.find(pred);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const assign = (id: string, extra: Record<string, unknown> = {}) =>
    agent.handleMessage({ type: 'task.assign', task: { id, role: 'qaa', title: `task ${id}`, payload: null, priority: 5, attempt: 1 }, correlation_id: `corr-${id}`, traceparent: TRACEPARENT, ...extra });
  const ended = (id: string) => until((m) => (m.type === 'task.finished' || m.type === 'task.failed') && m.task_id === id);
  return { agent, messages, lines, assign, ended };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Node SDK task path: messages', () => {
  it('sends started, progress and finished with the same fields as before, the result as JSON', async () => {
    const a = inProcessAgent();
    a.agent.onTask((_task, ctx) => {
      ctx.progress(2, 'x'.repeat(5000));
      const { progress } = ctx; // still works detached from ctx
      progress(undefined);
      return { when: new Date(0), skip: undefined, list: [1, undefined], n: 1.5 };
    });
    a.assign('T1');
    await a.ended('T1');
    const [started, p1, p2, finished] = a.messages.filter((m) => m.type.startsWith('task.'));
    expect(started).toEqual({ type: 'task.started', task_id: 'T1', correlation_id: 'corr-T1' });
    expect(p1).toEqual({ type: 'task.progress', task_id: 'T1', progress: 1, message: 'x'.repeat(4096) });
    expect(p2).toEqual({ type: 'task.progress', task_id: 'T1' });
    expect(Object.keys(finished!)).toEqual(['type', 'task_id', 'duration_ms', 'result']);
    expect(finished).toMatchObject({ type: 'task.finished', task_id: 'T1', result: { when: '1970-01-01T00:00:00.000Z', list: [1, null], n: 1.5 } });
    await a.agent.close();
  });

  it('reports a result JSON cannot carry as a description, and no result for undefined', async () => {
    const a = inProcessAgent();
    const results: unknown[] = [10n, undefined, () => 1, 'text'];
    a.agent.onTask(() => results.shift());
    for (const id of ['B', 'U', 'F', 'S']) a.assign(id);
    await a.ended('S');
    const finished = a.messages.filter((m) => m.type === 'task.finished');
    expect(finished.map((m) => m.result)).toEqual([{ unserializable: expect.stringContaining('BigInt') as unknown }, undefined, undefined, 'text']);
    expect(finished.map((m) => 'result' in m)).toEqual([true, false, false, true]);
    await a.agent.close();
  });

  it('encodes a pre-encoded result as the same bytes as JSON.stringify, and other transports still see the value', () => {
    const value = { a: [1, 'two', { three: null }], 'quote"key': 'é\n' };
    const plain = { type: 'task.finished' as const, task_id: 'T', duration_ms: 1.25, result: value };
    const withText = { ...plain, result: new JsonText(JSON.stringify(value)) };
    expect(encodeMessage(withText)).toBe(`${JSON.stringify(plain)}\n`);
    expect(JSON.stringify(withText)).toBe(JSON.stringify(plain));
  });
});

describe('Node SDK task path: the abort signal, made on first read', () => {
  it('gives a handler that reads ctx.signal after a task.cancel an already aborted signal with the CANCELLED reason', async () => {
    const a = inProcessAgent();
    let seen: { aborted: boolean; code: unknown } | undefined;
    a.agent.onTask(async (_task, ctx) => {
      await tick(30);
      seen = { aborted: ctx.signal.aborted, code: (ctx.signal.reason as { code?: unknown }).code };
      throw ctx.signal.reason;
    });
    a.assign('C1');
    await tick(5);
    a.agent.handleMessage({ type: 'task.cancel', task_id: 'C1', reason: 'stale' });
    expect(await a.ended('C1')).toMatchObject({ type: 'task.failed', error: { code: 'CANCELLED', message: expect.stringContaining('stale') as unknown }, retryable: false });
    expect(seen).toEqual({ aborted: true, code: 'CANCELLED' });
    await a.agent.close();
  });

  it('reports a cancelled task as CANCELLED even when its handler never read ctx.signal', async () => {
    const a = inProcessAgent();
    a.agent.onTask(async () => {
      await tick(30);
      throw new Error('gave up');
    });
    a.assign('C2');
    await tick(5);
    a.agent.handleMessage({ type: 'task.cancel', task_id: 'C2', reason: 'withdrawn' });
    expect(await a.ended('C2')).toMatchObject({ error: { message: 'gave up', code: 'CANCELLED' }, retryable: false });
    await a.agent.close();
  });

  it('aborts a signal read before the cancel, and the same signal on every read', async () => {
    const a = inProcessAgent();
    let same = false;
    a.agent.onTask(async (_task, ctx) => {
      const signal = ctx.signal;
      same = signal === ctx.signal;
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    });
    a.assign('C3');
    await tick(5);
    a.agent.handleMessage({ type: 'task.cancel', task_id: 'C3', reason: 'timed out' });
    expect(await a.ended('C3')).toMatchObject({ error: { code: 'CANCELLED' }, retryable: false });
    expect(same).toBe(true);
  });

  it('aborts the running task on shutdown (retryable) and track() work started during shutdown', async () => {
    const a = inProcessAgent();
    a.agent.onTask(async (_task, ctx) => {
      await tick(30);
      throw ctx.signal.reason;
    });
    a.assign('S1');
    await tick(5);
    const closing = a.agent.close('bye');
    const tracked = await a.agent.track('late', (ctx) => ctx.signal.aborted);
    expect(tracked).toBe(true);
    expect(await a.ended('S1')).toMatchObject({ error: { code: 'SHUTDOWN' }, retryable: true });
    await closing;
  });
});

describe('Node SDK task path: logs', () => {
  it('logs task started / finished at debug only, and a failure at warn', async () => {
    for (const level of ['info', 'debug']) {
      const a = inProcessAgent(level);
      a.agent.onTask((task: AssignedTask) => {
        if (task.id === 'F') throw new Error('boom');
        return 1;
      });
      a.assign('OK');
      a.assign('F');
      await a.ended('F');
      const perTask = a.lines.filter((l) => typeof l.task_id === 'string').map((l) => `${String(l.level)} ${String(l.msg)} ${String(l.task_id)}`);
      expect(perTask).toEqual(
        level === 'debug'
          ? ['20 task started OK', '20 task finished OK', '20 task started F', '40 task failed F']
          : ['40 task failed F'],
      );
      await a.agent.close();
    }
  });

  it('binds ctx.log to the task, the correlation id and the incoming trace id', async () => {
    const a = inProcessAgent();
    let same = false;
    a.agent.onTask((_task, ctx) => {
      same = ctx.log === ctx.log;
      ctx.log.info({ step: 1 }, 'working');
    });
    a.assign('L1');
    await a.ended('L1');
    expect(same).toBe(true);
    expect(a.lines.find((l) => l.msg === 'working')).toMatchObject({ agent: 'qaa', task_id: 'L1', correlation_id: 'corr-L1', trace_id: TRACE_ID, step: 1 });
    expect(a.lines.find((l) => l.msg === 'working')?.span_id).toBeUndefined();
    await a.agent.close();
  });
});

describe('Node SDK task path: the task.run span', () => {
  const runOne = async (handler: TaskHandler, traceparent: string | undefined = TRACEPARENT) => {
    const a = inProcessAgent();
    a.agent.onTask(handler);
    a.assign('X', { traceparent });
    await a.ended('X');
    await a.agent.close();
    return a;
  };

  it('without a tracer provider, makes the traceparent the active (non-recording) span while the handler runs', async () => {
    // A synchronous context manager: enough for what the handler reads before its first await.
    let current = ROOT_CONTEXT;
    const manager: ContextManager = {
      active: () => current,
      with: (ctx, fn, thisArg, ...args) => {
        const previous = current;
        current = ctx;
        try {
          return fn.call(thisArg, ...args);
        } finally {
          current = previous;
        }
      },
      bind: (_ctx, target) => target,
      enable() {
        return this;
      },
      disable() {
        return this;
      },
    };
    context.setGlobalContextManager(manager);
    try {
      let active: Span | undefined;
      await runOne(() => void (active = trace.getActiveSpan()));
      expect(active?.isRecording()).toBe(false);
      expect(active?.spanContext()).toEqual({ traceId: TRACE_ID, spanId: PARENT_SPAN_ID, traceFlags: 1, isRemote: true });
      let none: Span | undefined;
      const a = await runOne((_t, ctx: TaskContext) => {
        none = trace.getActiveSpan();
        ctx.log.info('no trace');
      }, 'not-a-traceparent');
      expect(none && trace.isSpanContextValid(none.spanContext())).toBe(false);
      expect(a.lines.find((l) => l.msg === 'no trace')?.trace_id).toBeUndefined();
    } finally {
      context.disable();
    }
  });

  it('with a tracer provider, records task.run as a child of the traceparent, with its attributes and progress events', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    try {
      const a = await runOne((_t, ctx) => {
        ctx.progress(0.5, 'half');
        ctx.log.info('traced');
      });
      const [span] = exporter.getFinishedSpans();
      expect(span?.name).toBe('task.run');
      expect(span?.spanContext().traceId).toBe(TRACE_ID);
      expect(span?.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
      expect(span?.attributes).toMatchObject({ 'task.id': 'X', 'correlation.id': 'corr-X', 'task.role': 'qaa', 'task.attempt': 1 });
      expect(span?.events.map((e) => [e.name, e.attributes])).toEqual([['progress', { 'task.progress': 0.5, 'task.progress.message': 'half' }]]);
      expect(a.lines.find((l) => l.msg === 'traced')).toMatchObject({ trace_id: TRACE_ID, span_id: span?.spanContext().spanId });
    } finally {
      trace.disable();
      await provider.shutdown();
    }
  });
});

describe('Node SDK task path: the channel', () => {
  async function socketPair(): Promise<{ agentSide: net.Socket; supervisorSide: net.Socket; close: () => void }> {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    const agentSide = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((r) => agentSide.once('connect', r));
    const supervisorSide = await accepted;
    return { agentSide, supervisorSide, close: () => { agentSide.destroy(); supervisorSide.destroy(); server.close(); } };
  }
  const events = { onMessage: () => undefined, onMalformed: () => undefined, onClose: () => undefined };
  const collect = (socket: net.Socket) => {
    const chunks: string[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c.toString()));
    return chunks;
  };

  it('writes the messages of one event-loop turn with one write, in order, at the end of the turn', async () => {
    const pair = await socketPair();
    try {
      const chunks = collect(pair.supervisorSide);
      const writes: string[] = [];
      const write = pair.agentSide.write.bind(pair.agentSide);
      pair.agentSide.write = ((data: string) => (writes.push(data), write(data))) as typeof pair.agentSide.write;
      const channel = new Channel(pair.agentSide, events);
      const sent: AgentMessageInput[] = [
        { type: 'task.started', task_id: 'T', correlation_id: 'c' },
        { type: 'task.progress', task_id: 'T', progress: 0.5 },
        { type: 'task.finished', task_id: 'T', duration_ms: 1, result: new JsonText('{"ok":true}') },
      ];
      for (const m of sent) channel.send(m);
      expect(writes).toEqual([]); // nothing written during the turn
      await new Promise((r) => setImmediate(r));
      const expected = '{"type":"task.started","task_id":"T","correlation_id":"c"}\n{"type":"task.progress","task_id":"T","progress":0.5}\n{"type":"task.finished","task_id":"T","duration_ms":1,"result":{"ok":true}}\n';
      expect(writes).toEqual([expected]);
      channel.send({ type: 'pong', id: 1 });
      await new Promise((r) => setImmediate(r));
      expect(writes).toHaveLength(2);
      await tick(50);
      expect(chunks.join('')).toBe(`${expected}{"type":"pong","id":1}\n`);
    } finally {
      pair.close();
    }
  });

  it('close() writes the queued lines before the end of stream, and drops (and counts) later messages', async () => {
    const pair = await socketPair();
    try {
      const chunks = collect(pair.supervisorSide);
      const ended = new Promise((r) => pair.supervisorSide.once('end', r));
      const channel = new Channel(pair.agentSide, events);
      channel.send({ type: 'pong', id: 1 });
      channel.send({ type: 'pong', id: 2 });
      const closing = channel.close();
      channel.send({ type: 'pong', id: 3 });
      await closing;
      await ended;
      expect(chunks.join('')).toBe('{"type":"pong","id":1}\n{"type":"pong","id":2}\n');
      expect(channel.dropped).toBe(1);
    } finally {
      pair.close();
    }
  });
});

describe('Node SDK task path: a synchronous exit', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sdk-exit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sdk = fileURLToPath(new URL('../../dist/sdk/index.js', import.meta.url));

  it('writes the messages of the current turn when the handler calls process.exit() right after them', async () => {
    if (!existsSync(sdk)) throw new Error('dist/sdk/index.js is missing: run `npm run build` first.');
    const file = path.join(dir, 'exit-agent.mjs');
    writeFileSync(file, `import { connect } from ${JSON.stringify(pathToFileURL(sdk).href)};
const agent = await connect({ capabilities: ['tasks'], metrics: false });
agent.onTask((task, ctx) => { ctx.progress(0.5, 'about to exit'); process.exit(7); });
`);
    const env: NodeJS.ProcessEnv = { ...process.env, AGENTIC_PROTOCOL_FD: '3', LOG_LEVEL: 'warn' };
    for (const k of Object.keys(env)) if (k.startsWith('OTEL_')) delete env[k];
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env });
    const channel = child.stdio[3] as net.Socket;
    let text = '';
    let welcomed = false;
    channel.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('"hello"') && !welcomed) {
        welcomed = true;
        channel.write(`${JSON.stringify({ type: 'welcome', protocol: 1, agent: { name: 'x', id: 'x-0', role: 'x', replica: 0 }, checkpoint: null, settings: { heartbeat_interval_ms: 60_000, max_checkpoint_bytes: 1024 } })}\n`);
        channel.write(`${JSON.stringify({ type: 'task.assign', task: { id: 'E1', role: 'x', title: 't', priority: 5, attempt: 1 }, correlation_id: 'c' })}\n`);
      }
    });
    channel.on('error', () => undefined);
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await tick(50); // the last bytes may arrive after the exit event
    expect(code).toBe(7);
    const types = text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as Msg).type);
    expect(types.filter((t) => t.startsWith('task.'))).toEqual(['task.started', 'task.progress']);
  });
});
