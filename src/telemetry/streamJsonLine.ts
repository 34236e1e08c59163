import { resultText, toolSummary } from '../supervisor/adapters/claudeStreamJson.js';
import { isRecord, type Json } from '../supervisor/adapters/textUtil.js';

/** Longest text shown for one event (characters). */
const MAX_TEXT = 160;
/** How many sessions' working directories are remembered (to show tool paths relative to them). */
const MAX_SESSIONS = 1000;

/**
 * Remembers, per session, the working directory a `system/init` event announced,
 * so that later tool calls show `tool: Read note.txt` rather than the full path.
 * Pass one to {@link streamJsonLine} when rendering a stream in order; bounded.
 */
export class StreamJsonContext {
  private readonly cwds = new Map<string, string>();

  remember(rec: Json): void {
    if (rec.type !== 'system' || rec.subtype !== 'init' || typeof rec.cwd !== 'string' || typeof rec.session_id !== 'string') return;
    if (this.cwds.size >= MAX_SESSIONS) this.cwds.delete(this.cwds.keys().next().value as string);
    this.cwds.set(rec.session_id, rec.cwd);
  }

  cwdOf(rec: Json): string | undefined {
    return typeof rec.session_id === 'string' ? this.cwds.get(rec.session_id) : undefined;
  }
}

/** What one piece of a stream-json event is, for a transcript (the web dashboard's task page). */
export type StreamJsonPartKind = 'session' | 'system' | 'text' | 'thinking' | 'tool' | 'tool_result' | 'tool_error' | 'user' | 'result' | 'error_result' | 'rate_limit' | 'event';

/** One piece of a stream-json event: an assistant's text block, a tool call, a tool result, the final result… */
export interface StreamJsonPart {
  kind: StreamJsonPartKind;
  /** The piece as `background logs` prints it (one line, cut to 160 characters). */
  text: string;
  /** An assistant text block in full (cut to 4000 characters); only for `text`. */
  body?: string;
}

/** Longest assistant text kept whole in a transcript part (characters). */
const MAX_BODY = 4000;

/**
 * One readable line for a claude stream-json event as stored in an agent's log
 * (`system`, `assistant`, `user`, `result`, …), or undefined when the record is
 * not one. Used by `background logs` and the monitor's log pane alike:
 *
 * - `session start: claude-sonnet-4-5, 9 tools, cwd /home/dev/shop`
 * - `I'll start by looking at how coupons are applied` (assistant text, first line)
 * - `tool: Read src/cart/coupon.ts` (tool name and its main input)
 * - `tool result: Test Files 6 passed (6)` / `tool error: …`
 * - `result: success, 4 turns, $0.0875, 48 s` (an error result adds its text)
 */
export function streamJsonLine(rec: Json, ctx?: StreamJsonContext): string | undefined {
  const parts = streamJsonParts(rec, ctx);
  if (!parts) return undefined;
  if (rec.type === 'assistant') {
    const text = parts.filter((p) => p.kind !== 'error_result').map((p) => p.text).filter((t) => t !== '').join(' | ') || 'assistant turn';
    return cut(typeof rec.error === 'string' ? `assistant error ${rec.error}: ${text}` : text);
  }
  if (rec.type === 'user') return cut(parts.map((p) => p.text).join(' | ') || 'user event');
  return parts[0]?.text;
}

/**
 * The pieces of one stream-json event, in order (an assistant message may hold text
 * and several tool calls), each with the line `background logs` prints for it; the
 * web dashboard renders a per_task run's transcript from them. Undefined when the
 * record is not a stream-json event. An assistant event carrying an `error` adds an
 * `error_result` piece first.
 */
export function streamJsonParts(rec: Json, ctx?: StreamJsonContext): StreamJsonPart[] | undefined {
  if (typeof rec.type !== 'string' || (rec.session_id === undefined && rec.message === undefined && rec.subtype === undefined)) return undefined;
  ctx?.remember(rec);
  switch (rec.type) {
    case 'system':
      return [rec.subtype === 'init' ? { kind: 'session', text: initLine(rec) } : { kind: 'system', text: `system: ${String(rec.subtype ?? 'event')}` }];
    case 'assistant':
      return assistantParts(rec, ctx?.cwdOf(rec));
    case 'user':
      return userParts(rec);
    case 'result': {
      const failed = rec.is_error === true || (typeof rec.subtype === 'string' && rec.subtype !== 'success');
      return [{ kind: failed ? 'error_result' : 'result', text: resultLine(rec) }];
    }
    case 'rate_limit_event': {
      const info = isRecord(rec.rate_limit_info) ? rec.rate_limit_info : {};
      return [{ kind: 'rate_limit', text: `rate limit: ${String(info.status ?? 'unknown')}${typeof info.rateLimitType === 'string' ? ` (${info.rateLimitType})` : ''}` }];
    }
    default:
      return [{ kind: 'event', text: `${rec.type} event` }];
  }
}

/** True for the stream-json events a reader should see at warn level: an error result, a failed tool. */
export function isStreamJsonWarning(rec: Json): boolean {
  if (rec.type === 'result') return rec.is_error === true || (typeof rec.subtype === 'string' && rec.subtype !== 'success');
  if (rec.type === 'assistant') return typeof rec.error === 'string';
  if (rec.type !== 'user' || !isRecord(rec.message) || !Array.isArray(rec.message.content)) return false;
  return rec.message.content.some((b) => isRecord(b) && b.type === 'tool_result' && b.is_error === true);
}

function initLine(rec: Json): string {
  const tools = Array.isArray(rec.tools) ? `, ${rec.tools.length} tools` : '';
  const cwd = typeof rec.cwd === 'string' ? `, cwd ${rec.cwd}` : '';
  return `session start: ${String(rec.model ?? 'unknown model')}${tools}${cwd}`;
}

function assistantParts(rec: Json, cwd: string | undefined): StreamJsonPart[] {
  const message = isRecord(rec.message) ? rec.message : {};
  const blocks = Array.isArray(message.content) ? message.content.filter(isRecord) : [];
  const parts = blocks.map((b): StreamJsonPart => {
    if (b.type === 'tool_use') return { kind: 'tool', text: cut(toolSummary(b, cwd)) };
    if (b.type === 'text' && typeof b.text === 'string') return { kind: 'text', text: cut(firstLine(b.text)), body: b.text.trim().slice(0, MAX_BODY) };
    if (b.type === 'thinking') return { kind: 'thinking', text: 'thinking…' };
    return { kind: 'event', text: `${String(b.type ?? 'block')}` };
  });
  if (typeof message.content === 'string') parts.push({ kind: 'text', text: cut(firstLine(message.content)), body: message.content.trim().slice(0, MAX_BODY) });
  if (typeof rec.error === 'string') parts.unshift({ kind: 'error_result', text: `assistant error ${rec.error}` });
  return parts;
}

function userParts(rec: Json): StreamJsonPart[] {
  const message = isRecord(rec.message) ? rec.message : {};
  if (typeof message.content === 'string') return [{ kind: 'user', text: cut(`user: ${firstLine(message.content)}`) }];
  const blocks = Array.isArray(message.content) ? message.content.filter(isRecord) : [];
  return blocks.map((b): StreamJsonPart => {
    if (b.type === 'tool_result') {
      const error = b.is_error === true;
      return { kind: error ? 'tool_error' : 'tool_result', text: cut(`${error ? 'tool error' : 'tool result'}: ${firstLine(resultText(b.content) ?? '(no output)')}`) };
    }
    if (b.type === 'text' && typeof b.text === 'string') return { kind: 'user', text: cut(`user: ${firstLine(b.text)}`) };
    return { kind: 'user', text: `user ${String(b.type ?? 'block')}` };
  });
}

function resultLine(rec: Json): string {
  const facts = [typeof rec.subtype === 'string' ? (rec.subtype === 'success' && rec.is_error === true ? 'success with is_error' : rec.subtype) : 'no subtype'];
  if (typeof rec.num_turns === 'number') facts.push(`${rec.num_turns} ${rec.num_turns === 1 ? 'turn' : 'turns'}`);
  if (typeof rec.total_cost_usd === 'number') facts.push(`$${rec.total_cost_usd.toFixed(4)}`);
  if (typeof rec.duration_ms === 'number') facts.push(`${Math.round(rec.duration_ms / 1000)} s`);
  if (typeof rec.oversized_bytes === 'number') facts.push(`line of ${(rec.oversized_bytes / 1024 / 1024).toFixed(1)} MiB cut`);
  const failed = rec.is_error === true || (typeof rec.subtype === 'string' && rec.subtype !== 'success');
  const why = failed ? (typeof rec.result === 'string' ? rec.result : resultText(rec.errors, '; ')) : undefined;
  return cut(`result: ${facts.join(', ')}${why ? `: ${firstLine(why)}` : ''}`);
}

/** The first non-blank line, whitespace collapsed. */
function firstLine(text: string): string {
  const head = text.length > MAX_TEXT * 4 ? text.slice(0, MAX_TEXT * 4) : text;
  const line = head.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.replace(/\s+/g, ' ').trim();
}

function cut(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}
