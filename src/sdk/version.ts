import { readFileSync } from 'node:fs';

/** The SDK's name, as sent in `hello.sdk.name`. */
export const SDK_NAME = 'agentic-scrum-background';

/** The package version (from package.json, two levels above both src/sdk and dist/sdk). */
export const SDK_VERSION: string = readVersion();

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
