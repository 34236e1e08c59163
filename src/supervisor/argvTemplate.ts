/** Values for per_task command placeholders. */
export interface TemplateValues {
  prompt: string;
  task_id: string;
  title: string;
  /** Path of a 0600 file holding the prompt (written only when a template uses it). */
  prompt_file?: string | undefined;
  /** The Claude session the task's last run reported (in `resume_args` only). */
  session_id?: string | undefined;
}

/** The placeholders a per_task command template may hold. */
export const PLACEHOLDERS = ['prompt', 'prompt_file', 'task_id', 'title', 'session_id'] as const;

const PLACEHOLDER = /\{(prompt_file|prompt|task_id|title|session_id)\}/g;

/** Whether any element of `argv` holds `{name}`. */
export const usesPlaceholder = (argv: readonly string[], name: (typeof PLACEHOLDERS)[number]): boolean => argv.some((a) => a.includes(`{${name}}`));

/**
 * Expands `{prompt}`, `{prompt_file}`, `{task_id}`, `{title}` and `{session_id}`
 * inside each argv element. Each element stays exactly one argument, verbatim:
 * there is no shell, no splitting, no quoting and no further expansion, so a prompt
 * holding `"`, `$(…)`, `;` or newlines reaches the program unchanged. A placeholder
 * without a value is left as written.
 */
export function expandArgv(argv: readonly string[], values: TemplateValues): string[] {
  return argv.map((arg) => arg.replace(PLACEHOLDER, (whole, key: keyof TemplateValues) => values[key] ?? whole));
}
