import { ConfigError } from '../config/ConfigError.js';
import type { Config } from '../config/schema.js';
import { checkPgUrl, PgConnectionError } from '../store/pg/pgUrl.js';
import { readSecretFile, TokenFileError } from '../supervisor/tokenFiles.js';

type QueueConfig = Readonly<Config['background']['queue']>;

/**
 * The PostgreSQL connection URL of `background.queue.postgres`, from the environment
 * variable `url_env` names or the file `url_file` names, checked for its shape (no
 * connection is made).
 * @throws ConfigError naming the key, what was expected and what was found (never the URL's password)
 */
export function resolvePgUrl(q: QueueConfig, env: NodeJS.ProcessEnv = process.env): string {
  const pgc = q.postgres;
  const at = 'background.queue.postgres';
  let url: string;
  let key: string;
  if (pgc?.url_env) {
    key = `${at}.url_env`;
    const v = env[pgc.url_env]?.trim();
    if (!v) throw new ConfigError([{ path: key, message: `expected the environment variable ${pgc.url_env} to hold the PostgreSQL connection URL, got ${v === undefined ? 'it unset' : 'it empty'}` }]);
    url = v;
  } else if (pgc?.url_file) {
    key = `${at}.url_file`;
    try {
      url = readSecretFile(pgc.url_file, 'the PostgreSQL URL file');
    } catch (err) {
      if (!(err instanceof TokenFileError)) throw err;
      throw new ConfigError([{ path: key, message: `expected a readable, non-empty file holding the PostgreSQL connection URL, got ${err.message}` }], undefined, { cause: err });
    }
  } else {
    throw new ConfigError([{ path: at, message: 'expected url_env or url_file when background.queue.backend is postgres, got neither' }]);
  }
  try {
    checkPgUrl(url);
  } catch (err) {
    if (!(err instanceof PgConnectionError)) throw err;
    throw new ConfigError([{ path: key, message: err.message }], undefined, { cause: err });
  }
  return url;
}
