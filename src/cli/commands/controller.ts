import path from 'node:path';
import { pino } from 'pino';
import { controllerSettings, ControllerSettingsError } from '../../controller/controllerSettings.js';
import { parseListen, parseMapSpec, parseSupervisorSpec, RouteSpecError } from '../../controller/routeSpecs.js';
import { startStandaloneController } from '../../controller/standaloneController.js';
import { TokenFileError } from '../../supervisor/tokenFiles.js';
import { CliError, EXIT } from '../CliError.js';

export interface ControllerFlags {
  listen: string;
  supervisor?: string[] | undefined;
  map?: string[] | undefined;
  stateDir?: string | undefined;
  tokenFile?: string | undefined;
  maxRestartsPerMinute?: string | undefined;
  cooldown?: string | undefined;
  logLevel?: string | undefined;
}

/** `background controller`: the recovery controller as its own process, until SIGINT/SIGTERM. */
export async function controllerCommand(flags: ControllerFlags): Promise<number> {
  let opts;
  try {
    const { host, port } = parseListen(flags.listen);
    const supervisors = (flags.supervisor ?? []).map(parseSupervisorSpec);
    if (!supervisors.length) throw new RouteSpecError('Give at least one --supervisor <url>=<token-file>, e.g. --supervisor http://127.0.0.1:9464=.agentic/background/api.token');
    const instanceMap = new Map((flags.map ?? []).map(parseMapSpec));
    opts = { host, port, supervisors, instanceMap, settings: controllerSettings(flags) };
  } catch (err) {
    if (err instanceof RouteSpecError || err instanceof ControllerSettingsError) throw new CliError(err.message, EXIT.USAGE);
    throw err;
  }
  const stateDir = path.resolve(flags.stateDir ?? process.env.AGENTIC_CONTROLLER_STATE_DIR ?? '.agentic/controller');
  const tokenFile = flags.tokenFile ? path.resolve(flags.tokenFile) : path.join(stateDir, 'webhook.token');
  const log = pino({ level: flags.logLevel ?? 'info', base: { component: 'controller' }, timestamp: pino.stdTimeFunctions.epochTime });
  let running;
  try {
    running = await startStandaloneController({ ...opts, stateDir, tokenFile, log });
  } catch (err) {
    if (err instanceof TokenFileError) throw new CliError(err.message, EXIT.USAGE);
    throw new CliError(`Could not start the recovery controller on ${flags.listen}: ${(err as Error).message}`, EXIT.FAILED);
  }
  log.info({ url: running.url, supervisors: opts.supervisors.map((s) => s.url), token_file: tokenFile, state_dir: stateDir, ...opts.settings }, `recovery controller listening on ${running.url}/api/v1/alerts`);
  const sig = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info({ signal: sig }, 'recovery controller stopping');
  await running.close();
  return EXIT.OK;
}
