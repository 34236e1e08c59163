import type { Config } from '../config/schema.js';
import { ConfigError } from '../config/ConfigError.js';
import type { StateDir } from '../supervisor/StateDir.js';
import { readSecretFile, TokenFileError } from '../supervisor/tokenFiles.js';
import type { AuthSecrets } from './routeAuth.js';

/**
 * The secrets the supervisor's server enforces, read once at start: the API and
 * webhook tokens of the state directory (created 0600 when missing) and, when
 * `background.server.metrics_auth` is set, the /metrics basic-auth password from
 * its `password_file`.
 * @throws TokenFileError when a token file holds fewer than 16 characters or cannot be read.
 * @throws ConfigError when `metrics_auth.password_file` cannot be read or is empty.
 */
export function serverSecrets(dir: StateDir, server: Readonly<Config['background']['server']>): AuthSecrets & { webhookToken: string } {
  const apiToken = dir.ensureToken(dir.tokenFile);
  const webhookToken = dir.ensureToken(dir.webhookTokenFile);
  const auth = server.metrics_auth;
  if (!auth) return { apiToken, webhookToken, metricsAuth: undefined };
  try {
    return { apiToken, webhookToken, metricsAuth: { username: auth.username, password: readSecretFile(auth.password_file, 'the /metrics password file') } };
  } catch (err) {
    if (!(err instanceof TokenFileError)) throw err;
    throw new ConfigError([{ path: 'background.server.metrics_auth.password_file', message: `expected a readable, non-empty file holding the /metrics password, got ${err.message}` }], undefined, { cause: err });
  }
}
