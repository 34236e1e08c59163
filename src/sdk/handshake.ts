import type { Agent } from './Agent.js';
import { Channel } from './Channel.js';
import { PROTOCOL_VERSION } from './constants.js';
import { AgentSdkError } from './errors.js';
import type { IncomingMessage, Welcome } from './supervisorMessage.js';
import { SDK_NAME, SDK_VERSION } from './version.js';

export interface Handshake<L> {
  welcome: Welcome;
  channel: Channel;
  /** What `afterHello` returned. */
  loads: L;
  /** Hands the channel to the agent: replays what arrived since welcome (messages, malformed lines, the channel's end), then delivers live. */
  attach(agent: Agent): void;
}

/**
 * Opens the channel, sends `hello`, calls `afterHello` (which starts the imports the
 * agent needs next) and resolves at `welcome`. Until attach(), pings before welcome
 * are answered here and everything after welcome is kept in order for the agent.
 */
export function handshake<L>(fd: number, capabilities: readonly string[], timeoutMs: number, afterHello: () => L): Promise<Handshake<L>> {
  return new Promise((resolve, reject) => {
    let agent: Agent | undefined;
    let welcomed = false;
    let early = 0;
    /** Since welcome, until attach(): a message, a malformed line's reason, or the channel's end. */
    const held: ({ message: IncomingMessage } | { malformed: string } | { closed: true })[] = [];
    const fail = (error: AgentSdkError): void => {
      clearTimeout(timer);
      void channel.close(0);
      reject(error);
    };
    const onMessage = (message: IncomingMessage): void => {
      if (agent) return agent.handleMessage(message);
      if (welcomed) return void held.push({ message });
      if (message.type === 'ping') channel.send({ type: 'pong', id: message.id });
      if (message.type !== 'welcome') return;
      clearTimeout(timer);
      welcomed = true;
      resolve({ welcome: message, channel, loads, attach });
    };
    const attach = (a: Agent): void => {
      for (let i = 0; i < early; i++) a.handleMalformed('before_welcome');
      for (const h of held.splice(0)) {
        if ('message' in h) a.handleMessage(h.message);
        else if ('malformed' in h) a.handleMalformed(h.malformed);
        else a.handleClose();
      }
      agent = a;
    };
    let channel: Channel;
    try {
      channel = Channel.fromFd(fd, {
        onMessage,
        onMalformed: (reason) => (agent ? agent.handleMalformed(reason) : welcomed ? held.push({ malformed: reason }) : early++),
        onClose: () => (agent ? agent.handleClose() : welcomed ? held.push({ closed: true }) : fail(new AgentSdkError('CHANNEL_CLOSED', `The supervisor closed the protocol channel (fd ${fd}) before sending welcome.`))),
      });
    } catch (cause) {
      reject(new AgentSdkError('INVALID_FD', `Cannot open the protocol channel on fd ${fd}: ${(cause as Error).message}. Is the agent started by the supervisor?`, { cause }));
      return;
    }
    const timer = setTimeout(
      () => fail(new AgentSdkError('WELCOME_TIMEOUT', `No welcome from the supervisor within ${timeoutMs} ms on fd ${fd}. Check that the supervisor speaks protocol ${PROTOCOL_VERSION}.`)),
      timeoutMs,
    );
    channel.send({ type: 'hello', protocol: PROTOCOL_VERSION, pid: process.pid, sdk: { name: SDK_NAME, version: SDK_VERSION }, capabilities: [...capabilities] });
    channel.flush(); // out now, before the imports below take the thread
    const loads = afterHello(); // (a message can only arrive in a later turn, once this is set)
  });
}
