/** Values for per_task command placeholders. */
export interface TemplateValues {
  prompt: string;
  task_id: string;
  title: string;
}

const PLACEHOLDER = /\{(prompt|task_id|title)\}/g;

/**
 * Expands `{prompt}`, `{task_id}` and `{title}` inside each argv element. Each
 * element stays exactly one argument, verbatim: there is no shell, no splitting,
 * no quoting and no further expansion, so a prompt holding `"`, `$(…)`, `;` or
 * newlines reaches the program unchanged.
 */
export function expandArgv(argv: readonly string[], values: TemplateValues): string[] {
  return argv.map((arg) => arg.replace(PLACEHOLDER, (_, key: keyof TemplateValues) => values[key]));
}
