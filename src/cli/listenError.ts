import { CliError, EXIT } from './CliError.js';

/**
 * Turns a failure to bind the HTTP port into one line that says which address,
 * why, and what to do (exit 2: the configuration, or the machine, must change).
 * Returns undefined for an error that is not about binding.
 */
export function listenError(err: unknown, host: string, port: number): CliError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const addr = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const keys = '(background.server.host and background.server.port, or --host/--port, AGENTIC_HOST/AGENTIC_PORT)';
  switch (code) {
    case 'EADDRINUSE':
      return new CliError(`Cannot listen on ${addr} ${keys}: the address is already in use by another process. No agent was started. Stop that process (find it with: ss -ltnp 'sport = :${port}'), or choose another port with --port (0 picks a free one).`, EXIT.USAGE);
    case 'EACCES':
    case 'EPERM':
      return new CliError(`Cannot listen on ${addr} ${keys}: permission denied${port > 0 && port < 1024 ? ` (ports below 1024 need root or CAP_NET_BIND_SERVICE)` : ''}. No agent was started. Choose a port from 1024 up with --port.`, EXIT.USAGE);
    case 'EADDRNOTAVAIL':
      return new CliError(`Cannot listen on ${addr} ${keys}: no network interface of this host has the address ${host}. No agent was started. Use 127.0.0.1 (the default), ::1, or an address of this host with --host.`, EXIT.USAGE);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CliError(`Cannot listen on ${addr} ${keys}: the host name ${host} does not resolve. No agent was started. Use an IP address such as 127.0.0.1 with --host.`, EXIT.USAGE);
    default:
      return undefined;
  }
}
