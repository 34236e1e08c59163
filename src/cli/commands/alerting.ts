import path from 'node:path';
import { renderAlerting } from '../../controller/renderAlerting.js';
import { RouteSpecError } from '../../controller/routeSpecs.js';
import { CliError, EXIT } from '../CliError.js';
import { printJson } from '../jsonOutput.js';

export interface AlertingRenderFlags {
  config?: string | undefined;
  out?: string | undefined;
  controllerUrl?: string | undefined;
  credentialsFile?: string | undefined;
  webhookTokenFile?: string | undefined;
  deadmanUrl?: string | undefined;
  json?: boolean | undefined;
}

/**
 * `background alerting render`: alertmanager.yml and its templates from the YAML config.
 * With --json prints `{"ok":true,"action":"alerting render","files":[…],"controller_url":…,"credentials_file":…}`.
 */
export async function alertingRenderCommand(flags: AlertingRenderFlags): Promise<number> {
  if (!flags.config) throw new CliError('Give the YAML config to render from: --config <file>', EXIT.USAGE);
  if (!flags.out) throw new CliError('Give the directory to write alertmanager.yml to: --out <dir>', EXIT.USAGE);
  let r;
  try {
    r = renderAlerting({ configFile: flags.config, outDir: flags.out, controllerUrl: flags.controllerUrl, credentialsFile: flags.credentialsFile, webhookTokenFile: flags.webhookTokenFile, deadmanUrl: flags.deadmanUrl });
  } catch (err) {
    if (err instanceof RouteSpecError) throw new CliError(err.message, EXIT.USAGE);
    throw err;
  }
  if (flags.json) {
    printJson({ ok: true, action: 'alerting render', files: r.files.map((f) => path.resolve(f)), controller_url: r.controllerUrl, credentials_file: r.credentialsFile });
    return EXIT.OK;
  }
  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  process.stdout.write(`Wrote ${r.files.map(rel).join(', ')}\n`);
  process.stdout.write(`Restart alerts go to ${r.controllerUrl} with the bearer token in ${r.credentialsFile} (relative to ${rel(path.resolve(flags.out))}).\n`);
  process.stdout.write(`Check it with: amtool check-config ${rel(path.join(path.resolve(flags.out), 'alertmanager.yml'))}\n`);
  return EXIT.OK;
}
