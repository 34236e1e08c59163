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
  if (typeof rec.type !== 'string' || (rec.session_id === undefined && rec.message === undefined && rec.subtype === undefined)) return undefined;
  ctx?.remember(rec);
  switch (rec.type) {
    case 'system':
      return rec.subtype === 'init' ? initLine(rec) : `system: ${String(rec.subtype ?? 'event')}`;
    case 'assistant':
      return assistantLine(rec, ctx?.cwdOf(rec));
    case 'user':
      return userLine(rec);
    case 'result':
      return resultLine(rec);
    case 'rate_limit_event': {
      const info = isRecord(rec.rate_limit_info) ? rec.rate_limit_info : {};
      return `rate limit: ${String(info.status ?? 'unknown')}${typeof info.rateLimitType === 'string' ? ` (${info.rateLimitType})` : ''}`;
    }
    default:
      return `${rec.type} event`;
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

function assistantLine(rec: Json, cwd: string | undefined): string {
  const message = isRecord(rec.message) ? rec.message : {};
  const blocks = Array.isArray(message.content) ? message.content.filter(isRecord) : [];
  const parts = blocks.map((b) => {
    if (b.type === 'tool_use') return toolSummary(b, cwd);
    if (b.type === 'text' && typeof b.text === 'string') return firstLine(b.text);
    if (b.type === 'thinking') return 'thinking…';
    return `${String(b.type ?? 'block')}`;
  }).filter((p) => p !== '');
  if (typeof message.content === 'string') parts.push(firstLine(message.content));
  const text = parts.join(' | ') || 'assistant turn';
  return cut(typeof rec.error === 'string' ? `assistant error ${rec.error}: ${text}` : text);
}

function userLine(rec: Json): string {
  const message = isRecord(rec.message) ? rec.message : {};
  if (typeof message.content === 'string') return cut(`user: ${firstLine(message.content)}`);
  const blocks = Array.isArray(message.content) ? message.content.filter(isRecord) : [];
  const parts = blocks.map((b) => {
    if (b.type === 'tool_result') return `${b.is_error === true ? 'tool error' : 'tool result'}: ${firstLine(resultText(b.content) ?? '(no output)')}`;
    if (b.type === 'text' && typeof b.text === 'string') return `user: ${firstLine(b.text)}`;
    return `user ${String(b.type ?? 'block')}`;
  });
  return cut(parts.join(' | ') || 'user event');
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
