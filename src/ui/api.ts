/** The page's side of the control API: the same endpoints as the CLI, authenticated by the session cookie. */

let csrf: string | undefined;

export class ApiError extends Error {
  constructor(readonly status: number, readonly error: string, message: string) {
    super(message);
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method === 'POST') {
    headers['content-type'] = 'application/json';
    if (csrf) headers['x-agentic-csrf'] = csrf;
  }
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined });
  const text = await res.text();
  let parsed: { error?: string; reason?: string } = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { error: 'bad_response', reason: text.slice(0, 200) };
  }
  if (!res.ok) throw new ApiError(res.status, parsed.error ?? `http_${res.status}`, parsed.reason ?? parsed.error ?? `HTTP ${res.status}`);
  return parsed as T;
}

export const get = <T>(path: string) => call<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => call<T>('POST', path, body);

/** Exchanges a one-time login code for the session cookie and keeps the CSRF token in memory. */
export async function login(code: string): Promise<void> {
  csrf = (await call<{ csrf: string }>('POST', '/ui/login', { code })).csrf;
}

/** After a reload: the CSRF token of the cookie's session. False when there is no session. */
export async function resume(): Promise<boolean> {
  try {
    csrf = (await get<{ csrf: string }>('/api/v1/ui/session')).csrf;
    return true;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 404)) return false;
    throw err;
  }
}

export async function logout(): Promise<void> {
  await post('/api/v1/ui/logout');
  csrf = undefined;
}
