import { spawn } from 'node:child_process';
import { ApiClient } from '../client.js';
import { EXIT } from '../CliError.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';

/** Opens `url` in the desktop's browser (xdg-open, open, start); false when none could be started. */
function openBrowser(url: string): Promise<boolean> {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  return new Promise((resolve) => {
    const p = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true });
    p.once('error', () => resolve(false));
    p.once('spawn', () => { p.unref(); resolve(true); });
  });
}

/**
 * `background ui [--open] [--json]`: prints the URL of the web dashboard with a
 * one-time login code (valid once, for 5 minutes) in its fragment, which the page
 * exchanges for a session cookie and then removes from the address bar.
 */
export async function uiCommand(flags: StateDirFlags & { open?: boolean; json?: boolean }): Promise<number> {
  const client = ApiClient.fromStateDir(await resolveStateDir(flags));
  const r = await client.call<{ path: string; expires_at: string }>('POST', '/api/v1/ui/codes');
  const url = `${client.endpoint.url}${r.path}`;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ok: true, action: 'ui', url, expires_at: r.expires_at })}\n`);
  } else {
    process.stdout.write(`Web dashboard (this link logs in once, until ${r.expires_at.slice(11, 19)} UTC):\n  ${url}\n`);
  }
  if (flags.open && !(await openBrowser(url))) process.stderr.write('Could not start a browser (xdg-open/open): open the link above by hand.\n');
  return EXIT.OK;
}
