import { pino, type DestinationStream, type Level, type Logger } from 'pino';

export type { Logger };
export type LogLevel = Level;

/** Identity bound into every log line. */
export interface LogIdentity {
  agent: string;
  agent_id: string;
  role: string;
}

/**
 * Creates the agent's logger: JSON lines on stdout (which the supervisor captures),
 * written synchronously so nothing is lost on `process.exit`.
 */
export function createAgentLogger(identity: LogIdentity, level: string, destination?: DestinationStream): Logger {
  const options = { level, base: { pid: process.pid, ...identity } };
  return destination ? pino(options, destination) : pino(options, pino.destination({ fd: 1, sync: true }));
}
