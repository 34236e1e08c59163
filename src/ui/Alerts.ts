import { ApiError } from './api.js';
import { Badge } from './Fleet.js';
import { html } from './html.js';
import type { AlertDecision, EventView } from './types.js';
import { usePoll } from './usePoll.js';

/** The event kinds that are the supervisor's escalations (an operator must look): a breaker opened or restarts ran out, a budget held a role. */
export const ESCALATION_KINDS = ['escalation', 'budget_exceeded'] as const;
const REFRESH_MS = 5000;

const time = (iso: string | number) => new Date(iso).toLocaleString();

function escalationText(e: EventView): { what: string; detail: string } {
  const d = (e.detail ?? {}) as Record<string, unknown>;
  if (e.kind === 'budget_exceeded') {
    const spent = typeof d.spent_usd === 'number' ? `$${d.spent_usd.toFixed(2)}` : '?';
    const limit = typeof d.limit_usd === 'number' ? `$${d.limit_usd.toFixed(2)}` : '?';
    return { what: 'budget exceeded', detail: `role ${String(d.role ?? '?')} spent ${spent} of its ${String(d.scope ?? '')} budget ${limit}${typeof d.until === 'number' ? `; held until ${time(d.until)}` : ''}` };
  }
  return { what: String(d.reason ?? e.kind).replace(/_/g, ' '), detail: String(d.detail ?? '') };
}

/** A decision's result as a state: acted (ok), a duplicate or resolved alert (off), a skip (warn), a failure (bad). */
const resultState = (r: string) => (r === 'acted' ? 'completed' : r === 'failed' ? 'failed' : r === 'duplicate' || r === 'skipped_resolved' ? 'cancelled' : 'pending');

/**
 * The supervisor's escalations (GET /api/v1/events?kind=…, as `background monitor`
 * shows them) and the recovery controller's recent decisions (GET
 * /api/v1/alerts/decisions, as `background alerts`), newest first.
 */
export function Alerts() {
  const esc = usePoll<{ events: EventView[] }>(`/api/v1/events?limit=50&kind=${ESCALATION_KINDS.join(',')}`, REFRESH_MS);
  const dec = usePoll<{ decisions: AlertDecision[] }>('/api/v1/alerts/decisions?limit=50', REFRESH_MS);
  const noController = dec.error instanceof ApiError && dec.error.status === 404;
  return html`<section aria-labelledby="alerts-title">
    <h2 id="alerts-title">Alerts</h2>
    <h3 id="escalations-title">Escalations</h3>
    ${esc.error ? html`<p role="alert">Could not read the escalations: ${esc.error.message}</p>` : null}
    ${esc.data && !esc.data.events.length ? html`<p>No escalations: no breaker opened, no replica ran out of restarts, no budget held a role.</p>` : null}
    ${esc.data?.events.length ? html`<div class="scroll"><table class="escalations" aria-labelledby="escalations-title">
      <thead><tr><th scope="col">When</th><th scope="col">Agent</th><th scope="col">Escalation</th><th scope="col">Detail</th></tr></thead>
      <tbody>${esc.data.events.map((e) => { const t = escalationText(e); return html`<tr key=${e.id} data-kind=${e.kind}><td>${time(e.at)}</td><th scope="row">${e.replica ?? e.agent ?? 'supervisor'}</th><td><${Badge} value="failed" label=${t.what} /></td><td class="reason">${t.detail}</td></tr>`; })}</tbody>
    </table></div>` : null}
    <h3 id="decisions-title">Recovery controller decisions</h3>
    ${noController ? html`<p>This supervisor has no recovery controller (GET /api/v1/alerts/decisions answered 404); <code>background alerts --url</code> reads a standalone one.</p>`
      : dec.error ? html`<p role="alert">Could not read the decisions: ${dec.error.message}</p>` : null}
    ${dec.data && !dec.data.decisions.length ? html`<p>No alert has reached the recovery controller yet.</p>` : null}
    ${dec.data?.decisions.length ? html`<div class="scroll"><table class="decisions" aria-labelledby="decisions-title">
      <thead><tr><th scope="col">When</th><th scope="col">Alert</th><th scope="col">Status</th><th scope="col">Target</th><th scope="col">Result</th><th scope="col">Reason</th></tr></thead>
      <tbody>${dec.data.decisions.map((d) => html`<tr key=${d.id}><td>${time(d.at)}</td><th scope="row">${d.alertname}</th><td>${d.status}</td><td>${d.target ?? '–'}</td>
        <td><${Badge} value=${resultState(d.result)} label=${d.result.replace(/_/g, ' ')} /></td><td class="reason">${d.reason}</td></tr>`)}</tbody>
    </table></div>` : null}
  </section>`;
}
