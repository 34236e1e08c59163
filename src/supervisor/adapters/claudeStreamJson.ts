import { createHash } from 'node:crypto';
import { resultOfOversizedLine } from './claudeOversizedResult.js';
import type { AdapterEvent, StdoutAdapter, TokenUsage } from './StdoutAdapter.js';
import { RESULT_MAX_BYTES, collapse, isRecord, nonNegative, pick, truncateBytes, truncateChars, type Json } from './textUtil.js';

/** Longest progress summary, in characters (the interface's limit). */
const SUMMARY_MAX_CHARS = 200;
/** Tool input keys that best say what a tool call is about, most telling first. */
const TOOL_ARG_KEYS = ['file_path', 'notebook_path', 'command', 'pattern', 'path', 'url', 'query', 'description', 'skill', 'prompt'];

// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[A-Za-z]/g;
/** An object, or an array that starts like JSON (not a `[debug]` log prefix). */
const LOOKS_LIKE_JSON = /^(?:\{|\[\s*(?:[[{"\d-]|true|false|null|\]|$))/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000e-\u001f\u007f\ufffd]/;

/**
 * Adapter for `claude -p <prompt> --output-format stream-json --verbose`.
 *
 * Every stdout line is one SDK message (`system`, `assistant`, `user`, `result`, ...).
 * Claude Code emits one `assistant` line per content block, all sharing the API
 * `message.id`, so a turn is a distinct `message.id` (a line without one counts alone).
 * Unknown event types are ignored so newer CLI versions do not produce noise.
 * Never throws: unparsable lines become `malformed`, plain text becomes `log`.
 */
export function createClaudeStreamJsonAdapter(): StdoutAdapter {
  const turnIds = new Set<string>();
  let anonymousTurns = 0;
  let cwd: string | undefined;
  const usage = new UsageTally();

  const countTurn = (message: Json): number => {
    if (typeof message.id === 'string' && message.id !== '') turnIds.add(message.id);
    else anonymousTurns += 1;
    return turnIds.size + anonymousTurns;
  };

  const onEvent = (ev: Json): AdapterEvent[] => {
    switch (ev.type) {
      case 'system':
        if (ev.subtype !== 'init') return [];
        cwd = typeof ev.cwd === 'string' ? ev.cwd : undefined;
        return [
          ...(typeof ev.session_id === 'string' && ev.session_id !== '' ? [{ kind: 'session' as const, sessionId: ev.session_id }] : []),
          { kind: 'log', level: 'info', msg: 'claude session started', fields: pick(ev, ['session_id', 'model', 'cwd', 'claude_code_version']) },
        ];
      case 'assistant': {
        if (!isRecord(ev.message)) return [{ kind: 'malformed', detail: 'assistant event has no message object' }];
        const turns = countTurn(ev.message);
        usage.add(ev.message);
        const model = typeof ev.message.model === 'string' && ev.message.model !== '' ? ev.message.model : undefined;
        const out: AdapterEvent[] = [{ kind: 'progress', turns, message: summarize(ev.message.content, cwd), usage: usage.total(), model }];
        out.push(...toolCalls(ev.message.content, cwd));
        if (typeof ev.error === 'string') {
          out.push({ kind: 'log', level: 'warn', msg: `assistant error: ${ev.error}` });
          if (ev.error === 'rate_limit') out.push({ kind: 'rate_limited', detail: 'assistant error: rate_limit' });
        }
        return out;
      }
      case 'user':
        return [...toolResults(ev), ...toolErrors(ev)];
      case 'result': {
        const result = toResult(ev);
        const limit = result.kind === 'result' && !result.ok ? rateLimitIn(result.result) : undefined;
        return limit ? [{ kind: 'rate_limited', detail: limit }, result] : [result];
      }
      default:
        return [];
    }
  };

  return {
    onLine(line: string): AdapterEvent[] {
      try {
        const text = line.trim();
        if (text === '') return [];
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          return [classifyText(line)];
        }
        if (!isRecord(parsed)) return [{ kind: 'malformed', detail: `expected a JSON event object, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}` }];
        if (typeof parsed.type !== 'string') return [{ kind: 'malformed', detail: 'JSON object has no string "type" field' }];
        return onEvent(parsed);
      } catch (err) {
        // Defensive: a bug here must never take down the supervisor's reader.
        return [{ kind: 'malformed', detail: `adapter failed on line: ${err instanceof Error ? err.message : String(err)}` }];
      }
    },
    onOversizedLine: resultOfOversizedLine,
  };
}

/** A short summary of the last meaningful content block of an assistant message. */
function summarize(content: unknown, cwd: string | undefined): string {
  const blocks = Array.isArray(content) ? content.filter(isRecord) : [];
  for (let i = blocks.length - 1; i >= 0; i -= 1) {
    const block = blocks[i] as Json;
    if (block.type === 'tool_use') return truncateChars(toolSummary(block, cwd), SUMMARY_MAX_CHARS);
    if (block.type === 'text' && typeof block.text === 'string' && block.text.trim() !== '') {
      return truncateChars(collapse(block.text), SUMMARY_MAX_CHARS);
    }
    if (block.type === 'thinking') return 'thinking';
  }
  return typeof content === 'string' && content.trim() !== '' ? truncateChars(collapse(content), SUMMARY_MAX_CHARS) : 'assistant turn';
}

export function toolSummary(block: Json, cwd: string | undefined): string {
  const name = typeof block.name === 'string' && block.name !== '' ? block.name : 'unknown';
  const input = isRecord(block.input) ? block.input : {};
  for (const key of TOOL_ARG_KEYS) {
    const value = input[key];
    if (typeof value !== 'string' || value.trim() === '') continue;
    const arg = cwd !== undefined && value.startsWith(`${cwd}/`) ? value.slice(cwd.length + 1) : value;
    return `tool: ${name} ${collapse(arg)}`;
  }
  return `tool: ${name}`;
}

/** Longest tool input kept for loop detection (canonical JSON), in characters. */
const TOOL_INPUT_MAX_CHARS = 4096;

/** The `tool_use` blocks of an assistant message, as `tool_call` events. */
function toolCalls(content: unknown, cwd: string | undefined): AdapterEvent[] {
  if (!Array.isArray(content)) return [];
  return content
    .filter((b): b is Json => isRecord(b) && b.type === 'tool_use' && typeof b.id === 'string')
    .map((b) => ({
      kind: 'tool_call' as const,
      id: b.id as string,
      name: typeof b.name === 'string' && b.name !== '' ? b.name : 'unknown',
      summary: truncateChars(toolSummary(b, cwd).replace(/^tool: /, ''), SUMMARY_MAX_CHARS),
      input: truncateChars(canonicalJson(b.input), TOOL_INPUT_MAX_CHARS),
    }));
}

/** The `tool_result` blocks of a user event, as `tool_result` events (their content hashed). */
function toolResults(ev: Json): AdapterEvent[] {
  const content = isRecord(ev.message) ? ev.message.content : undefined;
  if (!Array.isArray(content)) return [];
  return content
    .filter((b): b is Json => isRecord(b) && b.type === 'tool_result' && typeof b.tool_use_id === 'string')
    .map((b) => ({
      kind: 'tool_result' as const,
      id: b.tool_use_id as string,
      digest: createHash('sha1').update(canonicalJson(b.content)).digest('base64url').slice(0, 16),
      isError: b.is_error === true,
    }));
}

/** JSON with object keys sorted, so two equal inputs give one string whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    isRecord(v) && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  ) ?? 'null';
}

/** `user` events carry tool results; failed ones are worth a warning. */
function toolErrors(ev: Json): AdapterEvent[] {
  const content = isRecord(ev.message) ? ev.message.content : undefined;
  if (!Array.isArray(content)) return [];
  return content
    .filter((b): b is Json => isRecord(b) && b.type === 'tool_result' && b.is_error === true)
    .map((b) => ({
      kind: 'log' as const,
      level: 'warn' as const,
      msg: truncateChars(`tool error: ${collapse(resultText(b.content) ?? '(no output)')}`, SUMMARY_MAX_CHARS),
      fields: pick(b, ['tool_use_id']),
    }));
}

function toResult(ev: Json): AdapterEvent {
  const usage = isRecord(ev.usage)
    ? {
        input_tokens: nonNegative(ev.usage.input_tokens),
        output_tokens: nonNegative(ev.usage.output_tokens),
        cache_creation_input_tokens: nonNegative(ev.usage.cache_creation_input_tokens),
        cache_read_input_tokens: nonNegative(ev.usage.cache_read_input_tokens),
      }
    : undefined;
  // Error subtypes carry `errors: string[]` instead of `result`; keep them for the operator.
  const text = typeof ev.result === 'string' ? ev.result : resultText(ev.errors, '; ');
  return {
    kind: 'result',
    ok: ev.subtype === 'success' && !ev.is_error,
    subtype: typeof ev.subtype === 'string' ? ev.subtype : undefined,
    num_turns: nonNegative(ev.num_turns),
    duration_ms: nonNegative(ev.duration_ms),
    total_cost_usd: nonNegative(ev.total_cost_usd),
    usage,
    result: text === undefined ? undefined : truncateBytes(text, RESULT_MAX_BYTES, true),
    session_id: typeof ev.session_id === 'string' ? ev.session_id : undefined,
  };
}

/** An error text that says the API refused for load: 429 / rate limit, or 529 / overloaded. */
const RATE_LIMIT_TEXT = /rate[ _-]?limit|overloaded|\b(?:API Error|status|HTTP|code)\W{0,3}(?:429|529)\b/i;

/** The part of an error result's text that names a rate limit or an overload, if it does. */
export function rateLimitIn(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const m = RATE_LIMIT_TEXT.exec(text);
  if (!m) return undefined;
  const at = Math.max(0, m.index - 40);
  return `error result: ${collapse(text.slice(at, m.index + 80))}`;
}

/** Text of a tool_result `content` (a string or a list of text blocks) or an `errors` list. */
export function resultText(value: unknown, sep = ' '): string | undefined {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return undefined;
  const parts = value.map((v) => (typeof v === 'string' ? v : isRecord(v) && typeof v.text === 'string' ? v.text : '')).filter((s) => s !== '');
  return parts.length > 0 ? parts.join(sep) : undefined;
}

/** A line that is not JSON: truncated/invalid JSON or binary junk is `malformed`, readable text is a `log`. */
function classifyText(line: string): AdapterEvent {
  const text = line.replace(ANSI_ESCAPE, '').trim();
  const preview = truncateChars(JSON.stringify(line.slice(0, 120)), 130);
  if (LOOKS_LIKE_JSON.test(text)) return { kind: 'malformed', detail: `invalid or truncated JSON: ${preview}` };
  if (CONTROL_CHARS.test(text)) return { kind: 'malformed', detail: `binary or control characters: ${preview}` };
  return { kind: 'log', level: /\b(error|fatal|warn(ing)?)\b/i.test(text) ? 'warn' : 'info', msg: truncateBytes(text, RESULT_MAX_BYTES) };
}

/**
 * Tokens of a run so far. Claude prints one assistant line per content block, each
 * with the same message id and usage: a message's usage counts once (its latest).
 */
class UsageTally {
  private readonly byId = new Map<string, TokenUsage>();
  private readonly sum: Required<{ [K in keyof TokenUsage]: number }> = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  private seen = false;

  add(message: Json): void {
    if (!isRecord(message.usage)) return;
    const u = message.usage;
    const now: TokenUsage = {};
    for (const k of USAGE_KEYS) now[k] = nonNegative(u[k]) ?? 0;
    const id = typeof message.id === 'string' && message.id !== '' ? message.id : undefined;
    const before = id === undefined ? undefined : this.byId.get(id);
    for (const k of USAGE_KEYS) this.sum[k] += (now[k] ?? 0) - (before?.[k] ?? 0);
    if (id !== undefined) this.byId.set(id, now);
    this.seen = true;
  }

  total(): TokenUsage | undefined {
    return this.seen ? { ...this.sum } : undefined;
  }
}

const USAGE_KEYS = ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const;
