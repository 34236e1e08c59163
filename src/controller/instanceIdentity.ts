import { lookup } from 'node:dns/promises';
import { hostname, networkInterfaces } from 'node:os';

/** How long an answer about one `instance` label is kept (ms): DNS can change, slowly. */
const CACHE_MS = 60_000;

/** `host:port` or `[v6]:port` → its parts; undefined when it is not that shape. */
export function splitInstance(instance: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(instance.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  return host && port > 0 && port < 65536 ? { host: host.toLowerCase(), port } : undefined;
}

const isLoopback = (addr: string) => addr === '::1' || addr.startsWith('127.') || addr === '::ffff:127.0.0.1';

/**
 * Decides whether an alert's `instance` label (the scrape target Prometheus gave it)
 * is this supervisor, so that the in-process controller never restarts its own `qaa`
 * for an alert about another host's `qaa`. An instance is this supervisor when its
 * port is the one the server listens on and its host is a loopback name or address,
 * this machine's host name, or a name that resolves to one of this machine's
 * addresses. `explicit` (AGENTIC_CONTROLLER_INSTANCES) replaces the guess, for
 * scrape paths the supervisor cannot see (a NAT or a port mapping).
 */
export class InstanceIdentity {
  private readonly cache = new Map<string, { mine: boolean; until: number }>();

  constructor(
    private readonly listeningPort: () => number | undefined,
    private readonly explicit: readonly string[] = [],
    private readonly now: () => number = Date.now,
    private readonly resolve: (host: string) => Promise<string[]> = async (h) => (await lookup(h, { all: true })).map((a) => a.address),
  ) {}

  async isMine(instance: string): Promise<boolean> {
    if (this.explicit.length) return this.explicit.includes(instance.trim());
    const hit = this.cache.get(instance);
    if (hit && hit.until > this.now()) return hit.mine;
    const mine = await this.decide(instance);
    this.cache.set(instance, { mine, until: this.now() + CACHE_MS });
    return mine;
  }

  /** What the reason of a refusal says this supervisor answers to. */
  describe(): string {
    return this.explicit.length ? this.explicit.join(', ') : `port ${this.listeningPort() ?? '?'} on ${hostname()} or its addresses`;
  }

  private async decide(instance: string): Promise<boolean> {
    const parts = splitInstance(instance);
    if (!parts || parts.port !== this.listeningPort()) return false;
    const { host } = parts;
    const me = hostname().toLowerCase();
    if (host === 'localhost' || host === me || host === me.split('.')[0] || isLoopback(host)) return true;
    const local = new Set(Object.values(networkInterfaces()).flat().map((i) => i?.address.toLowerCase()));
    let addrs: string[];
    try {
      addrs = await this.resolve(host);
    } catch {
      return false;
    }
    return addrs.some((a) => isLoopback(a) || local.has(a.toLowerCase()));
  }
}
