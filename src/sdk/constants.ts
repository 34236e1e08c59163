/**
 * Protocol constants the SDK needs at run time. They mirror `src/protocol/messages.ts`
 * (a test keeps them equal); importing that module would load zod into every agent.
 */
export const PROTOCOL_VERSION = 1;

export const ENV = {
  PROTOCOL_FD: 'AGENTIC_PROTOCOL_FD',
  AGENT_NAME: 'AGENTIC_AGENT_NAME',
  AGENT_ID: 'AGENTIC_AGENT_ID',
  AGENT_ROLE: 'AGENTIC_AGENT_ROLE',
} as const;
