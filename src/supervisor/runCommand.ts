import type { AgentConfig } from '../config/schema.js';
import { expandArgv, usesPlaceholder } from './argvTemplate.js';

/** The default `resume_args` of an agent whose stdout adapter is claude-stream-json. */
export const CLAUDE_RESUME_ARGS: readonly string[] = Object.freeze(['--resume', '{session_id}']);

/**
 * The argv appended to resume a task's session: the agent's `resume_args`, else
 * `["--resume", "{session_id}"]` for `stdout_adapter: claude-stream-json` (what
 * `claude -p` takes), else none. `resume_args: []` turns resuming off.
 */
export function resumeArgsOf(a: AgentConfig): readonly string[] {
  return a.resume_args ?? (a.stdout_adapter === 'claude-stream-json' ? CLAUDE_RESUME_ARGS : []);
}

/** What one run of a task is started with. */
export interface RunCommand {
  argv: string[];
  /** Written to the process's stdin, which is then closed (`stdin: prompt`). */
  stdin: string | undefined;
  /** The prompt file to write (0600) before the spawn, when the templates use `{prompt_file}`. */
  promptFile: string | undefined;
  /** The session the run resumes (resume args were appended). */
  resumedSession: string | undefined;
}

/**
 * Builds a run's argv from the agent's `command` template, with its `resume_args`
 * appended when the task has a stored session id, and says what goes on stdin.
 */
export function runCommand(a: AgentConfig, task: { id: string; title: string; prompt: string | null }, opts: { promptFilePath: string; sessionId?: string | undefined }): RunCommand {
  const prompt = task.prompt ?? task.title;
  const resume = opts.sessionId !== undefined ? resumeArgsOf(a) : [];
  const template = [...a.command, ...resume];
  const promptFile = usesPlaceholder(template, 'prompt_file') ? opts.promptFilePath : undefined;
  return {
    argv: expandArgv(template, { prompt, task_id: task.id, title: task.title, prompt_file: promptFile, session_id: opts.sessionId }),
    stdin: a.stdin === 'prompt' ? prompt : undefined,
    promptFile,
    resumedSession: resume.length > 0 ? opts.sessionId : undefined,
  };
}
