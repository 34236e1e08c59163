import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UiSessions } from './UiSessions.js';

/** The dashboard's session cookie. */
export const UI_COOKIE = 'agentic_ui';
/** The header the page sets on every state-changing call: the session's CSRF token. */
export const CSRF_HEADER = 'x-agentic-csrf';

type Deny = (reply: FastifyReply, status: number, error: string, reason: string) => FastifyReply;

/** The value of cookie `name` in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** Whether a browser request comes from this server's own pages (Origin's host is the Host, Sec-Fetch-Site same-origin when sent). */
export function sameOrigin(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = req.headers.origin;
  if (!origin || !req.headers.host) return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * An API request without a bearer token: allowed with a live dashboard session
 * cookie; a state-changing one (any method but GET and HEAD) also needs the
 * session's CSRF token in `x-agentic-csrf` and a same-origin Origin. The cookie is
 * SameSite=Strict as well, so a cross-site page gets neither. Answers 401 without
 * a session, 403 for a cross-site or token-less state change.
 */
export function sessionAuth(req: FastifyRequest, reply: FastifyReply, sessions: UiSessions, deny: Deny): FastifyReply | undefined {
  const session = sessions.session(cookieValue(req.headers.cookie, UI_COOKIE));
  if (!session) return deny(reply, 401, 'unauthorized', 'send Authorization: Bearer <token>, or log in to the web dashboard with the URL `background ui` prints');
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  if (!sameOrigin(req)) return deny(reply, 403, 'cross_site', 'a state-changing call with the dashboard cookie must come from the dashboard itself (same Origin)');
  const presented = req.headers[CSRF_HEADER];
  if (!sessions.csrfMatches(session, typeof presented === 'string' ? presented : undefined)) return deny(reply, 403, 'csrf', `a state-changing call with the dashboard cookie needs the session's ${CSRF_HEADER} header`);
  return undefined;
}
