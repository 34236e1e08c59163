import type { AdapterEvent, StdoutAdapter } from './StdoutAdapter.js';

/** Longest progress message, in characters (the interface's limit). */
const MESSAGE_MAX_CHARS = 200;
/** Longest log message, in characters. */
const LOG_MAX_CHARS = 4096;
const WARN_LEVELS = new Set(['warn', 'warning', 'error', 'err', 'fatal', 'critical']);
/** pino/bunyan numeric levels: 40 is warn. */
const WARN_LEVEL_NUMBER = 40;

type Json = Record<string, unknown>;

/**
 * A generic adapter for agents that print one JSON object per line.
 *
 * - `{"progress": 0.4, "message": "compiling"}`: a `progress` number in 0..1 and/or a
 *   `message` string become a `progress` event. `turns` is the object's own
 *   non-negative integer `turns`, else the number of progress lines seen so far.
 * - An object with a `level` and no `progress` is a log record (winston writes its text
 *   in `message`), so it becomes a `log` event, as does every other line, JSON or not.
 *
 * Never throws and never reports `malformed`: to this adapter any text is a log line.
 */
export function createNdjsonAdapter(): StdoutAdapter {
  let progressLines = 0;

  return {
    onLine(line: string): AdapterEvent[] {
      const text = line.trim();
      if (text === '') return [];
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return [{ kind: 'log', level: 'info', msg: truncate(text, LOG_MAX_CHARS) }];
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return [{ kind: 'log', level: 'info', msg: truncate(text, LOG_MAX_CHARS) }];
      }
      const obj = parsed as Json;
      const progress = typeof obj.progress === 'number' && obj.progress >= 0 && obj.progress <= 1 ? obj.progress : undefined;
      const message = typeof obj.message === 'string' && obj.message.trim() !== '' ? obj.message.trim() : undefined;
      const isLogRecord = obj.level !== undefined && progress === undefined;
      if (!isLogRecord && (progress !== undefined || message !== undefined)) {
        progressLines += 1;
        const turns = Number.isSafeInteger(obj.turns) && (obj.turns as number) >= 0 ? (obj.turns as number) : progressLines;
        return [{ kind: 'progress', turns, message: truncate(describe(progress, message), MESSAGE_MAX_CHARS) }];
      }
      const msg = firstString(obj.msg, obj.message, obj.event) ?? text;
      return [{ kind: 'log', level: levelOf(obj.level), msg: truncate(msg, LOG_MAX_CHARS), fields: obj }];
    },
  };
}

function describe(progress: number | undefined, message: string | undefined): string {
  const percent = progress === undefined ? undefined : `${Math.round(progress * 100)}%`;
  if (percent !== undefined && message !== undefined) return `${percent} ${message}`;
  return percent ?? message ?? '';
}

function levelOf(level: unknown): 'info' | 'warn' {
  if (typeof level === 'number') return level >= WARN_LEVEL_NUMBER ? 'warn' : 'info';
  return typeof level === 'string' && WARN_LEVELS.has(level.toLowerCase()) ? 'warn' : 'info';
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v.trim() !== '');
}

/** At most `max` characters (code points), ending in an ellipsis when cut. */
function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
