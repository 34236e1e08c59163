/**
 * The conformance kit: runs an agent under a scripted supervisor over the real
 * transport and checks it against docs/protocol.md, one row per rule. The agent
 * is started twice: a full session (hello, heartbeats, pings, tasks, a cancel,
 * malformed lines, a shutdown with a task in flight), then a second session
 * welcomed with the checkpoint the first one stored.
 *
 * The kit's tasks carry `payload: {work_ms, fail?}`: the example agents honour
 * both; an agent may ignore them (any outcome of a task conforms).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROTOCOL_VERSION, type AgentMessage, type SupervisorMessage } from '../protocol/messages.js';
import { AgentUnderTest, type TranscriptEntry } from './AgentUnderTest.js';

export type RowResult = 'pass' | 'fail' | 'skip';

export interface Row {
  check: CheckName;
  result: RowResult;
  detail: string;
}

export const CHECKS = [
  'hello',
  'heartbeat',
  'ping/pong',
  'stream framing',
  'task.started',
  'task outcome',
  'progress',
  'cancel',
  'malformed lines',
  'checkpoint round-trip',
  'shutdown',
] as const;
export type CheckName = (typeof CHECKS)[number];

export interface ConformanceOptions {
  /** The agent's command and arguments. */
  argv: string[];
  /** welcome.settings.heartbeat_interval_ms (default 500). */
  heartbeatMs?: number;
  /** How long a task may take before its row fails (default 30000). */
  taskTimeoutMs?: number;
  /** shutdown.deadline_ms (default 3000). */
  shutdownDeadlineMs?: number;
  /** How long the agent may take to say hello (default 10000: interpreters start slowly under load). */
  helloTimeoutMs?: number;
  /** Extra environment for the agent. */
  env?: Record<string, string>;
}

export interface ConformanceReport {
  rows: Row[];
  ok: boolean;
  /** Both sessions' lines, in order. */
  sessions: TranscriptEntry[][];
  /** The agent's last stdout/stderr lines (for a failing run). */
  output: string[];
}

const MAX_LINE_BYTES = 1024 * 1024;
const MAX_CHECKPOINT_BYTES = 64 * 1024;
const REPLY_MS = 3000;

type Msg<T extends AgentMessage['type']> = Extract<AgentMessage, { type: T }>;
const is = <T extends AgentMessage['type']>(t: T) => (e: TranscriptEntry): e is TranscriptEntry & { message: Msg<T> } => e.message?.type === t;
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const ms = (n: number) => `${Math.round(n)} ms`;
const refusedText = (errors: TranscriptEntry[]) => errors.map((e) => `${e.error?.reason}: ${e.error?.detail} (line ${JSON.stringify(e.line.slice(0, 120))})`).join('; ');

/** Runs the whole script; never throws for the agent's behaviour (that is a failing row). */
export async function runConformance(o: ConformanceOptions): Promise<ConformanceReport> {
  const hb = o.heartbeatMs ?? 500;
  const taskTimeout = o.taskTimeoutMs ?? 30_000;
  const deadline = o.shutdownDeadlineMs ?? 3000;
  const helloTimeout = o.helloTimeoutMs ?? 10_000;
  const rows = new Map<CheckName, Row>();
  const set = (check: CheckName, result: RowResult, detail: string) => { if (!rows.has(check) || rows.get(check)?.result !== 'fail') rows.set(check, { check, result, detail }); };
  const sessions: TranscriptEntry[][] = [];
  const env = (n: number) => ({ AGENTIC_AGENT_NAME: 'conformance', AGENTIC_AGENT_ID: `conformance-${n}`, AGENTIC_AGENT_ROLE: 'conformance', ...o.env });
  const welcome = (hello: Msg<'hello'>, checkpoint: unknown): SupervisorMessage => ({
    type: 'welcome', protocol: Math.min(PROTOCOL_VERSION, hello.protocol), agent: { name: 'conformance', id: 'conformance-0', role: 'conformance', replica: 0 },
    checkpoint, settings: { heartbeat_interval_ms: hb, max_checkpoint_bytes: MAX_CHECKPOINT_BYTES, max_line_bytes: MAX_LINE_BYTES },
  });
  let taskSeq = 0;
  const assign = (a: AgentUnderTest, payload: Record<string, unknown>) => {
    const id = `conf-${++taskSeq}`;
    const correlation_id = hex(16);
    a.send({ type: 'task.assign', task: { id, role: 'conformance', title: `conformance task ${taskSeq}`, payload, priority: 5, attempt: 1 }, correlation_id, traceparent: `00-${correlation_id}-${hex(8)}-01` });
    return { id, correlation_id };
  };
  const outcomeOf = (a: AgentUnderTest, id: string, timeoutMs: number, from: number) =>
    a.waitFor((e) => (e.message?.type === 'task.finished' || e.message?.type === 'task.failed') && e.message.task_id === id, timeoutMs, from);
  const errorsIn = (a: AgentUnderTest, from: number, to = a.transcript.length) => a.transcript.slice(from, to).filter((e) => e.error);
  let pingSeq = 0;
  /** A pong for `id`, or a refused line that tries to be one (the agent answered; ping/pong says what is wrong with it). */
  const answers = (id: number) => (e: TranscriptEntry): boolean => (e.message?.type === 'pong' && e.message.id === id) || (!!e.error && pongIdOf(e.line) === String(id));
  const ping = async (a: AgentUnderTest) => {
    const id = ++pingSeq;
    const from = a.transcript.length;
    a.send({ type: 'ping', id });
    return { id, pong: await a.waitFor(answers(id), REPLY_MS, from), from };
  };

  // ---- session 1 -----------------------------------------------------------
  const a = new AgentUnderTest(o.argv, env(0), MAX_LINE_BYTES);
  sessions.push(a.transcript);
  let lastCheckpoint: { state: unknown; bytes: number } | undefined;
  let checkpointCount = 0;
  let caps: string[] = [];
  try {
    const first = await a.waitFor(() => true, helloTimeout);
    if (!first) {
      set('hello', 'fail', a.exit ? `the agent exited (${exitText(a.exit)}) before sending anything` : `no message within ${ms(helloTimeout)}: the agent speaks first, hello is its first line, and the supervisor sends nothing before it`);
      return finish();
    }
    if (first.error) {
      set('hello', 'fail', `first line refused, ${refusedText([first])}`);
      return finish();
    }
    if (first.message?.type !== 'hello') {
      set('hello', 'fail', `first message was ${first.message?.type}: hello must come first (the supervisor ignores a session that never says hello)`);
      return finish();
    }
    const hello = first.message as Msg<'hello'>;
    caps = hello.capabilities;
    set('hello', 'pass', `protocol ${hello.protocol}, pid ${hello.pid}, capabilities [${caps.join(', ')}]${hello.sdk ? `, sdk ${hello.sdk.name}@${hello.sdk.version}` : ''}`);
    a.send(welcome(hello, null));
    const welcomeAt = a.now();
    const welcomeIdx = a.transcript.length;

    // ping / pong, then framing over the byte stream
    const p1 = await ping(a);
    if (p1.pong && !p1.pong.error) set('ping/pong', 'pass', `pong {id: ${p1.id}} after ${ms(p1.pong.at - a.transcript[p1.from - 1]!.at)}`);
    else {
      const bad = errorsIn(a, p1.from).filter((e) => pongIdOf(e.line) !== undefined);
      set('ping/pong', 'fail', bad.length ? `pong refused, ${refusedText(bad)}: echo ping's id as the same JSON integer` : `no pong {id: ${p1.id}} within ${ms(REPLY_MS)}`);
    }
    {
      const from = a.transcript.length;
      const ids = [++pingSeq, ++pingSeq, ++pingSeq];
      a.sendRaw(`{"type":"ping","id":${ids[0]}}\n{"type":"ping","id":${ids[1]}}\n`);
      const third = `{"type":"ping","id":${ids[2]}}\n`;
      a.sendRaw(third.slice(0, 9));
      await sleep(300);
      a.sendRaw(third.slice(9));
      const got: number[] = [];
      for (const id of ids) if (await a.waitFor(answers(id), REPLY_MS, from)) got.push(id);
      const missing = ids.filter((id) => !got.includes(id));
      if (!missing.length) set('stream framing', 'pass', 'answered two pings sent in one write and one split across two writes');
      else set('stream framing', 'fail', `no pong for ping ${missing.join(', ')} (pings ${ids[0]} and ${ids[1]} came in one write, ${ids[2]} in two): the channel is a byte stream (SOCK_STREAM), not one message per read; split it on newlines`);
    }

    const hasTasks = caps.includes('tasks');
    if (!hasTasks) {
      for (const c of ['task.started', 'task outcome', 'progress', 'cancel'] as const) set(c, 'skip', 'no "tasks" capability');
    } else {
      // one task that succeeds, one asked to fail
      const from = a.transcript.length;
      const t1 = assign(a, { work_ms: 300 });
      const o1 = await outcomeOf(a, t1.id, taskTimeout, from);
      const from2 = a.transcript.length;
      const t2 = assign(a, { work_ms: 100, fail: 'conformance kit: asked to fail' });
      const o2 = await outcomeOf(a, t2.id, taskTimeout, from2);
      const started = a.agentSince(from).filter(is('task.started')).filter((e) => e.message.name === undefined);
      const wrong = started.filter((e) => e.message.correlation_id !== undefined && e.message.correlation_id !== (e.message.task_id === t1.id ? t1.correlation_id : t2.correlation_id));
      const ownIds = started.filter((e) => e.message.task_id !== t1.id && e.message.task_id !== t2.id);
      if (wrong.length) set('task.started', 'fail', `task.started for ${wrong[0]!.message.task_id} has correlation_id ${JSON.stringify(wrong[0]!.message.correlation_id)}, task.assign gave ${JSON.stringify(wrong[0]!.message.task_id === t1.id ? t1.correlation_id : t2.correlation_id)}: echo it unchanged or leave it out (supervisor: correlation_mismatch)`);
      else if (ownIds.length) set('task.started', 'fail', `task.started names ${JSON.stringify(ownIds[0]!.message.task_id)}, not an assigned task id (${t1.id}, ${t2.id})`);
      else if (started.length) set('task.started', 'pass', `${started.length} task.started, ${started.every((e) => e.message.correlation_id) ? 'each echoing' : 'some without'} task.assign's correlation_id`);
      else set('task.started', 'pass', 'none sent (task.started is optional for an assigned task)');
      const describe = (t: { id: string }, e: TranscriptEntry): string => {
        const m = e.message as Msg<'task.finished'> | Msg<'task.failed'>;
        return `${t.id} ${m.type === 'task.finished' ? 'finished' : `failed (${m.error.code ?? 'no code'}, retryable ${m.retryable})`} in ${ms(m.duration_ms)}`;
      };
      const failure = (t: { id: string }, from: number): string => {
        const tracked = new Set(a.transcript.filter(is('task.started')).filter((e) => e.message.name !== undefined).map((e) => e.message.task_id));
        const other = a.agentSince(from).find((e) => (e.message?.type === 'task.finished' || e.message?.type === 'task.failed') && !tracked.has(e.message.task_id) && !/^conf-\d+$/.test(e.message.task_id));
        if (other) return `${other.message!.type} names ${JSON.stringify((other.message as Msg<'task.finished'>).task_id)}, not the assigned ${JSON.stringify(t.id)}: the supervisor ignores it (unknown_task) and the task stays in progress until its timeout`;
        const bad = errorsIn(a, from).filter((e) => /^task\.(finished|failed)/.test(e.error?.detail ?? '') || /"task\.(finished|failed)"/.test(e.line));
        if (bad.length) return `${t.id}: report refused, ${refusedText(bad)} (duration_ms is a JSON number of milliseconds, result any JSON value, the whole line within max_line_bytes)`;
        return `no task.finished or task.failed for ${t.id} within ${ms(taskTimeout)}${a.exit ? ` (the agent exited: ${exitText(a.exit)})` : ''}`;
      };
      if (o1 && o2) set('task outcome', 'pass', `${describe(t1, o1)}; ${describe(t2, o2)}`);
      else set('task outcome', 'fail', !o1 ? failure(t1, from) : failure(t2, from2));

      // cancel: no reply expected; the agent stays responsive and takes the next task
      const cFrom = a.transcript.length;
      const t3 = assign(a, { work_ms: 5000 });
      await a.waitFor((e) => e.message?.type === 'task.started' && e.message.task_id === t3.id, 2000, cFrom);
      a.send({ type: 'task.cancel', task_id: t3.id, reason: 'cancelled' });
      await sleep(50); // a separate write: this row is about the cancel, not the framing
      const pc = await ping(a);
      const o3 = await outcomeOf(a, t3.id, REPLY_MS, cFrom);
      const t4From = a.transcript.length;
      const outcomesWork = rows.get('task outcome')?.result === 'pass';
      const t4 = assign(a, { work_ms: 100 });
      const o4 = outcomesWork ? await outcomeOf(a, t4.id, taskTimeout, t4From) : undefined;
      // what the cancel caused: a line of a type the protocol lacks, or a refused report on the cancelled task
      const cErrors = errorsIn(a, cFrom).filter((e) => e.error?.reason === 'unknown_type' || e.line.includes(`"${t3.id}"`));
      if (cErrors.length) set('cancel', 'fail', `after task.cancel the agent sent a refused line, ${refusedText(cErrors)}: task.cancel needs no reply (report the task, if at all, with task.failed or task.finished)`);
      else if (!pc.pong) set('cancel', 'fail', `no pong within ${ms(REPLY_MS)} after task.cancel${a.exit ? ` (the agent exited: ${exitText(a.exit)})` : ''}`);
      else if (outcomesWork && !o4) set('cancel', 'fail', `the next task ${t4.id} got no outcome within ${ms(taskTimeout)} after ${t3.id} was cancelled`);
      else set('cancel', 'pass', `answered a ping after task.cancel; ${t3.id} ${o3 ? `then reported ${o3.message!.type}${o3.message!.type === 'task.failed' ? ` (${(o3.message as Msg<'task.failed'>).error.code ?? 'no code'})` : ''}` : 'was not reported (allowed)'}; ${outcomesWork ? 'took the next task' : 'the next task not checked (task outcome failed)'}`);

      const progress = a.agentSince(from).filter(is('task.progress'));
      const badProgress = errorsIn(a, welcomeIdx).filter((e) => /^task\.progress/.test(e.error?.detail ?? ''));
      const stray = progress.filter((e) => !/^conf-\d+$/.test(e.message.task_id));
      if (badProgress.length) set('progress', 'fail', `task.progress refused, ${refusedText(badProgress)}`);
      else if (stray.length) set('progress', 'fail', `task.progress names ${JSON.stringify(stray[0]!.message.task_id)}, not an assigned task`);
      else if (!progress.length) set('progress', 'skip', 'the agent sent no task.progress (optional)');
      else set('progress', 'pass', `${progress.length} task.progress, fractions ${progress.map((e) => e.message.progress).filter((p) => p !== undefined).slice(0, 4).join(', ')}${progress.length > 4 ? ', …' : ''}`);
    }

    // malformed supervisor lines: ignored, the agent keeps answering
    {
      const from = a.transcript.length;
      const id = ++pingSeq;
      a.sendRaw(`{not json\n[1,2]\n\n{"type":"future.message","x":1}\n{"type":"ping","id":"seven"}\n`);
      await sleep(50); // the ping in a write of its own: this row is about the content, not the framing
      a.sendRaw(`{"type":"ping","id":${id},"added_in_a_later_version":{"a":1}}\n`);
      // a pong the kit refused (a wrong id type) still shows the agent answered: that is the ping/pong row's failure
      const pong = await a.waitFor(answers(id), REPLY_MS, from);
      const errs = errorsIn(a, from).filter((e) => pongIdOf(e.line) === undefined);
      if (pong && !errs.length) set('malformed lines', 'pass', 'ignored a non-JSON line, an array, an unknown type and a ping with a string id; answered the next ping (with an unknown field)');
      else set('malformed lines', 'fail', a.exit ? `the agent exited (${exitText(a.exit)}) on malformed supervisor lines: count and ignore them` : !pong ? `no pong {id: ${id}} after malformed lines: ignore what you cannot parse, and unknown fields and types` : `answered malformed lines with refused ones: ${refusedText(errs)}`);
    }

    // shutdown, with a task in flight when the agent takes tasks
    let inFlight: string | undefined;
    if (hasTasks && !a.exit) {
      const from = a.transcript.length;
      inFlight = assign(a, { work_ms: 30_000 }).id;
      await a.waitFor((e) => e.message?.type === 'task.started' && e.message.task_id === inFlight, 1000, from);
    }
    const shutdownIdx = a.transcript.length;
    const shutdownAt = a.now();
    // heartbeats up to now
    const beats = a.transcript.slice(welcomeIdx, shutdownIdx).filter(is('heartbeat')).map((e) => e.at);
    const badBeats = errorsIn(a, welcomeIdx, shutdownIdx).filter((e) => /^heartbeat/.test(e.error?.detail ?? ''));
    if (badBeats.length) set('heartbeat', 'fail', `heartbeat refused, ${refusedText(badBeats)}`);
    else if (!beats.length) set('heartbeat', 'fail', `no heartbeat in the ${ms(shutdownAt - welcomeAt)} after welcome (heartbeat_interval_ms ${hb}): the first is due within the interval`);
    else {
      const firstAfter = beats[0]! - welcomeAt;
      const gaps = [...beats.slice(1).map((t, i) => t - beats[i]!), shutdownAt - beats[beats.length - 1]!];
      const worst = Math.max(...gaps);
      if (firstAfter > 2 * hb) set('heartbeat', 'fail', `first heartbeat ${ms(firstAfter)} after welcome: it is due within heartbeat_interval_ms (${hb}) of welcome; the supervisor counts a miss from the hello on`);
      else if (worst > 3 * hb) set('heartbeat', 'fail', `a gap of ${ms(worst)} between heartbeats: over heartbeat_miss_multiplier (3) × heartbeat_interval_ms (${hb})`);
      else set('heartbeat', 'pass', `${beats.length} heartbeats, the first ${ms(firstAfter)} after welcome, largest gap ${ms(worst)} (interval ${hb} ms)`);
    }
    checkpointCount = a.transcript.filter(is('checkpoint')).length;
    a.send({ type: 'shutdown', deadline_ms: deadline, reason: 'conformance kit: shutdown' });
    const exit = await a.waitExit(deadline + 1000);
    const after = errorsIn(a, shutdownIdx);
    const report = inFlight ? a.agentSince(shutdownIdx).find((e) => (e.message?.type === 'task.finished' || e.message?.type === 'task.failed') && e.message.task_id === inFlight) : undefined;
    if (!exit) set('shutdown', 'fail', `still running ${ms(a.now() - shutdownAt)} after shutdown {deadline_ms: ${deadline}}${inFlight ? ` with ${inFlight} in flight` : ''}: the supervisor would SIGKILL it; finish or abandon the task (it goes back to the queue) and exit within deadline_ms`);
    else if (after.length) set('shutdown', 'fail', `refused lines after shutdown: ${refusedText(after)}`);
    else set('shutdown', 'pass', `exited (${exitText(exit)}) ${ms(exit.at - shutdownAt)} after shutdown {deadline_ms: ${deadline}}${inFlight ? `; ${inFlight} in flight: ${report ? `reported ${report.message!.type}` : 'not reported'}` : ''}`);
    const cps = a.transcript.filter(is('checkpoint'));
    checkpointCount = cps.length;
    const lastCp = cps[cps.length - 1];
    if (lastCp) lastCheckpoint = { state: lastCp.message.state, bytes: Buffer.byteLength(JSON.stringify(lastCp.message.state) ?? 'null') };
    // a second hello anywhere in the session
    const hellos = a.transcript.filter(is('hello'));
    if (hellos.length > 1) set('hello', 'fail', `${hellos.length} hellos in one process: say hello once (a second one is the duplicate_hello protocol error)`);
  } finally {
    await a.kill();
  }

  // ---- session 2: the checkpoint round-trip --------------------------------
  if (!caps.includes('checkpoint')) set('checkpoint round-trip', 'skip', 'no "checkpoint" capability');
  else if (lastCheckpoint && lastCheckpoint.bytes > MAX_CHECKPOINT_BYTES) set('checkpoint round-trip', 'fail', `a checkpoint of ${lastCheckpoint.bytes} bytes, over max_checkpoint_bytes (${MAX_CHECKPOINT_BYTES}): the supervisor refuses it`);
  else {
    const state = lastCheckpoint ? lastCheckpoint.state : { conformance: 'a state the kit made up', n: 1 };
    const b = new AgentUnderTest(o.argv, env(1), MAX_LINE_BYTES);
    sessions.push(b.transcript);
    try {
      const hello = await b.waitFor(is('hello'), helloTimeout);
      if (!hello) set('checkpoint round-trip', 'fail', `restarted, the agent sent no hello within ${ms(helloTimeout)}${b.exit ? ` (it exited: ${exitText(b.exit)})` : ''}`);
      else {
        b.send(welcome(hello.message as Msg<'hello'>, state));
        const p = await ping(b);
        let taskText = '';
        let ok = !!p.pong;
        if (ok && caps.includes('tasks')) {
          const from = b.transcript.length;
          const t = assign(b, { work_ms: 100 });
          const out = await outcomeOf(b, t.id, taskTimeout, from);
          ok = !!out;
          taskText = out ? `, and ran ${t.id} (${out.message!.type})` : `, but ${t.id} got no outcome within ${ms(taskTimeout)}`;
        }
        const errs = errorsIn(b, 0);
        const where = lastCheckpoint ? `session 1 stored ${checkpointCount} checkpoint(s), the last ${lastCheckpoint.bytes} bytes` : 'session 1 stored no checkpoint (the agent decides when), so the kit made one up';
        if (errs.length) set('checkpoint round-trip', 'fail', `${where}; welcomed with it, the agent sent refused lines: ${refusedText(errs)}`);
        else if (!ok) set('checkpoint round-trip', 'fail', `${where}; welcomed with it, the agent ${p.pong ? '' : `did not answer a ping${b.exit ? ` (it exited: ${exitText(b.exit)})` : ''}`}${taskText}`);
        else set('checkpoint round-trip', 'pass', `${where}; restarted with it in welcome, the agent answered a ping${taskText}`);
        b.send({ type: 'shutdown', deadline_ms: deadline, reason: 'conformance kit: done' });
        await b.waitExit(deadline + 1000);
      }
    } finally {
      await b.kill();
    }
  }
  return finish();

  function finish(): ConformanceReport {
    for (const c of CHECKS) if (!rows.has(c)) rows.set(c, { check: c, result: 'skip', detail: 'not reached (an earlier check failed)' });
    const ordered = CHECKS.map((c) => rows.get(c) as Row);
    return { rows: ordered, ok: ordered.every((r) => r.result !== 'fail') && ordered[0]?.result === 'pass', sessions, output: a.output.slice(-20) };
  }
}

/** The id of a line that tries to be a pong (as text), or undefined. */
function pongIdOf(line: string): string | undefined {
  try {
    const v = JSON.parse(line) as { type?: unknown; id?: unknown };
    return v && v.type === 'pong' && (typeof v.id === 'number' || typeof v.id === 'string') ? String(v.id) : undefined;
  } catch {
    return undefined;
  }
}

function exitText(e: { code: number | null; signal: NodeJS.Signals | null }): string {
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}
