import { createHash, randomBytes } from 'node:crypto';
import { tokenMatches } from '../auth.js';

/** A browser session of the web dashboard, created by redeeming a login code. */
export interface UiSession {
  /** The value of the HttpOnly session cookie. */
  id: string;
  /** Sent by the page in `x-agentic-csrf` on every state-changing call. */
  csrf: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface UiSessionOptions {
  /** How long a login code may be redeemed, ms. Default 300 000 (5 min). */
  codeTtlMs?: number;
  /** How long a session lasts, ms. Default 43 200 000 (12 h). */
  sessionTtlMs?: number;
  /** Most codes outstanding and sessions alive at once; the oldest goes first. Default 64. */
  max?: number;
  now?: () => number;
}

const secret = () => randomBytes(32).toString('base64url');
const hash = (s: string) => createHash('sha256').update(s).digest('base64url');

/**
 * One-time login codes and the sessions they open. A code is single use and
 * short-lived; only its hash is kept. `background ui` asks for a code with the API
 * token and prints a URL carrying it in the fragment (never sent to a server), the
 * page exchanges it (POST /ui/login) for an HttpOnly, SameSite=Strict cookie.
 */
export class UiSessions {
  private readonly codes = new Map<string, number>();
  private readonly sessions = new Map<string, UiSession>();
  private readonly codeTtl: number;
  private readonly sessionTtl: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(opts: UiSessionOptions = {}) {
    this.codeTtl = opts.codeTtlMs ?? 300_000;
    this.sessionTtl = opts.sessionTtlMs ?? 12 * 3600_000;
    this.max = opts.max ?? 64;
    this.now = opts.now ?? Date.now;
  }

  /** A new login code, valid once until `expiresAt` (epoch ms). */
  issueCode(): { code: string; expiresAt: number } {
    const code = secret();
    const expiresAt = this.now() + this.codeTtl;
    this.prune();
    this.codes.set(hash(code), expiresAt);
    evictOldest(this.codes, this.max);
    return { code, expiresAt };
  }

  /** Redeems a code (it is gone afterwards, used or not valid); undefined when unknown, used or expired. */
  redeem(code: string): UiSession | undefined {
    const key = hash(code);
    const expiresAt = this.codes.get(key);
    this.codes.delete(key);
    if (expiresAt === undefined || expiresAt <= this.now()) return undefined;
    this.prune();
    const session: UiSession = { id: secret(), csrf: secret(), expiresAt: this.now() + this.sessionTtl };
    this.sessions.set(hash(session.id), session);
    evictOldest(this.sessions, this.max);
    return session;
  }

  /** The live session whose cookie value is `id`. */
  session(id: string | undefined): UiSession | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(hash(id));
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(hash(id));
      return undefined;
    }
    return s;
  }

  /** Whether `presented` is the session's CSRF token (constant time). */
  csrfMatches(s: UiSession, presented: string | undefined): boolean {
    return typeof presented === 'string' && tokenMatches(presented, s.csrf);
  }

  end(id: string): void {
    this.sessions.delete(hash(id));
  }

  private prune(): void {
    const now = this.now();
    for (const [k, at] of this.codes) if (at <= now) this.codes.delete(k);
    for (const [k, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(k);
  }
}

function evictOldest<V>(map: Map<string, V>, max: number): void {
  for (const k of map.keys()) {
    if (map.size <= max) return;
    map.delete(k);
  }
}
