import type { MonitorEvent } from './model.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

const KINDS: Record<string, MonitorEvent['kind']> = { escalation: 'escalation', finding: 'finding', restart: 'restart', exit: 'restart' };

function toneOf(kind: MonitorEvent['kind'], detail: Obj): MonitorEvent['tone'] {
  if (kind === 'escalation') return 'bad';
  const sev = str(detail.severity) ?? str(detail.verdict);
  if (sev === 'unhealthy') return 'bad';
  if (sev === 'healthy') return 'ok';
  return kind === 'state' ? 'dim' : 'warn';
}

function describe(kind: string, detail: Obj): string {
  const text = str(detail.message) ?? str(detail.summary) ?? str(detail.text);
  if (text) return text;
  const how = detail.signal ? `killed by ${String(detail.signal)}` : detail.code !== undefined && detail.code !== null ? `exit code ${String(detail.code)}` : undefined;
  const reason = str(detail.reason);
  if (kind === 'exit') return `exited (${reason ?? how ?? 'unknown'})`;
  if (kind === 'escalation' && reason === 'circuit_open') return `circuit open${str(detail.detail) ? `: ${str(detail.detail)}` : ''}`;
  if (kind === 'escalation' && reason === 'restarts_exhausted') return `failed: restarts exhausted${str(detail.detail) ? ` (${str(detail.detail)})` : ''}`;
  const rest = [reason, str(detail.check), how].filter(Boolean).join(', ');
  return rest ? `${kind}: ${rest}` : kind;
}

/**
 * Events from the supervisor's GET /api/v1/events: a list of
 * `{at, agent, replica, kind, detail}` (at in ms or ISO), newest or oldest first.
 * Each line names the replica (`qaa-1`) when there is one, else the agent, else
 * "supervisor".
 * Returns them oldest first; anything unreadable is dropped.
 */
export function normaliseServerEvents(body: unknown): MonitorEvent[] {
  const list = isObj(body) && Array.isArray(body.events) ? body.events : Array.isArray(body) ? body : [];
  const out: MonitorEvent[] = [];
  for (const raw of list) {
    if (!isObj(raw)) continue;
    const at = typeof raw.at === 'number' ? raw.at : typeof raw.at === 'string' ? Date.parse(raw.at) : NaN;
    const kindName = str(raw.kind) ?? str(raw.type);
    if (Number.isNaN(at) || !kindName) continue;
    const kind = KINDS[kindName] ?? 'state';
    const detail: Obj = isObj(raw.detail) ? raw.detail : {};
    const agent = str(raw.replica) ?? str(raw.agent) ?? null;
    out.push({ at, kind, agent, text: `${agent ?? 'supervisor'} ${describe(kindName, { ...raw, detail: undefined, ...detail })}`, tone: toneOf(kind, detail) });
  }
  return out.sort((a, b) => a.at - b.at);
}
