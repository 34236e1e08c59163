#!/usr/bin/env node
// A stand-in for `claude -p <prompt> --output-format stream-json --verbose [--model x]`.
// It prints the event stream Claude Code prints (system init, assistant turns with
// text and tool_use blocks, user tool_result events, a final result event), with no
// network and no dependencies. The result text contains the prompt verbatim.
//
// The prompt comes as the one positional argument or, without one, on stdin (as
// `claude -p` reads it; the demo config uses `stdin: prompt`). `--resume <session>`
// continues that session: the init event keeps its session_id, and the first turn
// and the result say that the story was resumed.
//
// Env: FAKE_CLAUDE_DELAY_MS (per event, default 300), FAKE_CLAUDE_TURNS (1..50,
// default 2 + prompt length % 4), FAKE_CLAUDE_FAIL=1 (error result, exit 1),
// FAKE_CLAUDE_HANG=1 (stop mid-tool and sleep until signalled), FAKE_CLAUDE_GARBAGE=1
// (interleave non-JSON lines). Usage and cost are a pure function of prompt and turns.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

const VALUE_FLAGS = new Set(['--output-format', '--input-format', '--model', '--fallback-model', '--max-turns', '--max-budget-usd',
  '--allowedTools', '--allowed-tools', '--disallowedTools', '--disallowed-tools', '--permission-mode', '--system-prompt',
  '--append-system-prompt', '--session-id', '--resume', '-r', '--mcp-config', '--settings', '--add-dir', '--agents']);

process.on('SIGTERM', () => process.exit(143));
process.on('SIGINT', () => process.exit(130));
process.stdout.on('error', () => process.exit(0)); // reader went away (EPIPE)

function usageError(message) {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { format: 'text', model: 'claude-sonnet-4-5-20250929', positional: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--') { opts.positional.push(...argv.slice(i + 1)); break; }
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (VALUE_FLAGS.has(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined) usageError(`option '${flag}' needs a value`);
      if (flag === '--output-format') opts.format = value;
      if (flag === '--model') opts.model = value;
      if (flag === '--resume' || flag === '-r') opts.resume = value;
    } else if (!arg.startsWith('-') || arg === '-') opts.positional.push(arg);
    // other flags (-p/--print, --verbose, --dangerously-skip-permissions, ...) take no value
  }
  if (opts.positional.length > 1) usageError(`expected one prompt argument, got ${opts.positional.length}: ${JSON.stringify(opts.positional)}`);
  if (!['text', 'json', 'stream-json'].includes(opts.format)) usageError(`--output-format must be text, json or stream-json, got '${opts.format}'`);
  return opts;
}

function envInt(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) usageError(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  return n;
}
const flag = (name) => ['1', 'true', 'yes'].includes((process.env[name] ?? '').toLowerCase());

async function readStdin() {
  if (process.stdin.isTTY) return '';
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8').trim();
}

const opts = parseArgs(process.argv.slice(2));
const prompt = opts.positional[0] ?? (await readStdin());
if (prompt === '') usageError('Input must be provided either through stdin or as a prompt argument when using --print');
const delayMs = envInt('FAKE_CLAUDE_DELAY_MS', 300, 0, 600_000);
const turns = envInt('FAKE_CLAUDE_TURNS', 2 + (prompt.length % 4), 1, 50);
const [failing, hanging, garbage] = [flag('FAKE_CLAUDE_FAIL'), flag('FAKE_CLAUDE_HANG'), flag('FAKE_CLAUDE_GARBAGE')];

const cwd = process.cwd();
const sessionId = opts.resume ?? randomUUID();
const resumed = opts.resume !== undefined;
if (resumed) process.stderr.write(`resuming session ${sessionId}\n`);
const startedAt = Date.now();
const L = prompt.length;
const TOOLS = [
  { say: 'Let me read the README to understand the project.', name: 'Read', input: { file_path: `${cwd}/README.md` }, out: '# Project\n\nA small service.' },
  { say: 'Searching for the code this story touches.', name: 'Grep', input: { pattern: 'TODO', path: 'src' }, out: 'src/index.ts:12: // TODO implement' },
  { say: 'Now I will make the change.', name: 'Edit', input: { file_path: `${cwd}/src/index.ts`, old_string: '// TODO implement', new_string: 'export const done = true;' }, out: 'The file has been updated.' },
  { say: 'Running the tests.', name: 'Bash', input: { command: 'npm test', description: 'Run the test suite' }, out: 'Tests: 12 passed, 12 total' },
  { say: 'Writing a short note for reviewers.', name: 'Write', input: { file_path: `${cwd}/docs/notes.md`, content: 'Done.' }, out: 'File created successfully.' },
];
const GARBAGE = [
  'Warning: running without a TTY; interactive features are disabled',
  '\u001b[33m[debug] retrying API request (attempt 2)\u001b[0m',
  '{"type":"assistant","message":{"id":"msg_trunc',
  '\u0000\u0001\u0002\u0003 binary noise',
];
const usageOf = (i) => ({
  input_tokens: 3 + (L % 7),
  cache_creation_input_tokens: i === 0 ? 1200 + 2 * L : 150 + 10 * i,
  cache_read_input_tokens: 9000 + 350 * i,
  output_tokens: 40 + ((L + 13 * i) % 90),
});

const streaming = opts.format === 'stream-json';
let garbageLeft = garbage && streaming ? GARBAGE.length : 0;
async function emit(event) {
  if (!streaming) return;
  await sleep(delayMs);
  if (!process.stdout.write(`${JSON.stringify(event)}\n`)) await once(process.stdout, 'drain');
}
async function maybeGarbage() {
  if (garbageLeft === 0) return;
  const line = GARBAGE[GARBAGE.length - garbageLeft--];
  if (!process.stdout.write(`${line}\n`)) await once(process.stdout, 'drain');
}
const envelope = (extra) => ({ ...extra, parent_tool_use_id: null, session_id: sessionId, uuid: randomUUID() });
// Claude Code prints one assistant line per content block, all with the same message id.
async function assistant(i, blocks) {
  const message = { id: `msg_fake_${sessionId.slice(0, 8)}_${i}`, type: 'message', role: 'assistant', model: opts.model, stop_sequence: null, usage: usageOf(i) };
  for (const [n, block] of blocks.entries()) {
    await emit(envelope({ type: 'assistant', message: { ...message, content: [block], stop_reason: n === blocks.length - 1 && block.type === 'tool_use' ? 'tool_use' : null } }));
  }
}

await emit({ type: 'system', subtype: 'init', cwd, session_id: sessionId, tools: ['Task', 'Bash', 'Glob', 'Grep', 'Read', 'Edit', 'Write', 'TodoWrite'],
  mcp_servers: [], model: opts.model, permissionMode: 'default', slash_commands: [], apiKeySource: 'none', claude_code_version: '0.0.0-fake', output_style: 'default', uuid: randomUUID() });
await maybeGarbage();
if (resumed) await assistant(0, [{ type: 'text', text: `Resuming session ${sessionId}: picking up the story where the last run stopped.` }]);

const toolTurns = failing ? Math.max(1, turns - 1) : turns - 1;
for (let i = 0; i < toolTurns; i += 1) {
  const tool = TOOLS[i % TOOLS.length];
  const toolUseId = `toolu_fake_${i}_${sessionId.slice(0, 8)}`;
  await assistant(i, [{ type: 'text', text: tool.say }, { type: 'tool_use', id: toolUseId, name: tool.name, input: tool.input }]);
  if (hanging) { setInterval(() => {}, 1 << 30); await new Promise(() => {}); } // stuck in the tool until signalled
  const lastFails = failing && i === toolTurns - 1;
  const content = lastFails ? 'Command failed with exit code 1: npm test' : tool.out;
  await emit(envelope({ type: 'user', message: { role: 'user', content: [{ tool_use_id: toolUseId, type: 'tool_result', content, is_error: lastFails }] } }));
  await maybeGarbage();
}

const messages = failing ? toolTurns : turns;
const usage = { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 };
for (let i = 0; i < messages; i += 1) for (const [k, v] of Object.entries(usageOf(i))) usage[k] += v;
const cost = (usage.input_tokens * 3 + usage.output_tokens * 15 + usage.cache_creation_input_tokens * 3.75 + usage.cache_read_input_tokens * 0.3) / 1e6;
const text = `Story complete after ${turns} turns${resumed ? ` (resumed session ${sessionId})` : ''}. The prompt I worked on was:\n${prompt}`;
if (!failing) await assistant(turns - 1, [{ type: 'text', text }]);

await maybeGarbage();
const durationMs = Date.now() - startedAt;
const result = {
  type: 'result', subtype: failing ? 'error_during_execution' : 'success', is_error: failing,
  duration_ms: durationMs, duration_api_ms: Math.round(durationMs * 0.8), num_turns: messages,
  ...(failing ? { errors: ['Tool execution failed: npm test exited with code 1'] } : { result: text }),
  session_id: sessionId, total_cost_usd: Math.round(cost * 1e6) / 1e6,
  usage: { ...usage, server_tool_use: { web_search_requests: 0 }, service_tier: 'standard' },
  permission_denials: [], uuid: randomUUID(),
};
if (streaming) await emit(result);
else process.stdout.write(opts.format === 'json' ? `${JSON.stringify(result)}\n` : `${failing ? result.errors[0] : text}\n`);
process.exitCode = failing ? 1 : 0;
