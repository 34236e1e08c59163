/**
 * What a command prints on stdout with `--json`: one JSON document (two-space
 * indented) and a newline. The shapes are listed in docs/operations.md,
 * "Machine-readable output"; errors go to stderr through main.ts (errorJson).
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
