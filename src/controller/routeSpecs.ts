import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { SupervisorEndpoint } from './RemoteSupervisors.js';

/** A flag value that does not parse; the message names the flag, what it expected and what it got. */
export class RouteSpecError extends Error {
  readonly code = 'ROUTE_SPEC';
}

const httpUrl = (raw: string, flag: string): string => {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new RouteSpecError(`Expected ${flag} to name an http(s) URL such as http://127.0.0.1:9464, got \`${raw}\``);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RouteSpecError(`Expected ${flag} to name an http(s) URL, got \`${raw}\``);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
};

/** `--listen host:port` (IPv6 in brackets). */
export function parseListen(raw: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(raw);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new RouteSpecError(`Expected --listen to be host:port such as 127.0.0.1:9465, got \`${raw}\``);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** `--supervisor <url>=<token-file>`: the token file must be readable now. */
export function parseSupervisorSpec(raw: string): SupervisorEndpoint {
  const m = /^(https?:\/\/[^=\s]+)=(.+)$/.exec(raw);
  if (!m) throw new RouteSpecError(`Expected --supervisor to be <url>=<token-file> such as http://127.0.0.1:9464=.agentic/background/api.token, got \`${raw}\``);
  const tokenFile = path.resolve(m[2] as string);
  try {
    accessSync(tokenFile, constants.R_OK);
  } catch {
    throw new RouteSpecError(`--supervisor ${raw}: cannot read the token file ${tokenFile} (the supervisor's api.token in its state directory)`);
  }
  return { url: httpUrl(m[1] as string, '--supervisor'), tokenFile };
}

/** `--map <instance>=<url>`: alerts whose `instance` label is <instance> go to the supervisor at <url>. */
export function parseMapSpec(raw: string): [string, string] {
  const i = raw.indexOf('=');
  if (i <= 0 || i === raw.length - 1) throw new RouteSpecError(`Expected --map to be <instance>=<url> such as build-01:9464=http://10.0.0.5:9464, got \`${raw}\``);
  return [raw.slice(0, i), httpUrl(raw.slice(i + 1), '--map')];
}
