import { fleetLine } from '../supervisor/fleetCounts.js';
import { Badge } from './Fleet.js';
import { bytes } from './format.js';
import { html } from './html.js';
import type { LlmReport, UiSnapshot } from './types.js';
import { usePoll } from './usePoll.js';

const REFRESH_MS = 10_000;
const usd = (n: number) => `$${n.toFixed(n >= 100 ? 0 : 2)}`;

/** LLM spend of per_task runs from the run ledger (GET /api/v1/llm, as `background metrics --llm`): the last hour, and the hourly mean of the last 24 h. */
function LlmCost() {
  const hour = usePoll<LlmReport>('/api/v1/llm?window=1h&stories=1', REFRESH_MS);
  const day = usePoll<LlmReport>('/api/v1/llm?window=24h&stories=1', REFRESH_MS);
  if (hour.error) return html`<p role="alert">Could not read the LLM report: ${hour.error.message}</p>`;
  if (!hour.data) return html`<p>Loading…</p>`;
  const h = hour.data.total;
  return html`<dl class="facts llm-cost">
      <dt>Last hour</dt><dd data-figure="cost-1h">${usd(h.cost_usd)} over ${h.runs} run${h.runs === 1 ? '' : 's'}, ${h.turns} turns, ${h.input_tokens + h.output_tokens + h.cache_tokens} tokens</dd>
      <dt>Mean per hour, last 24 h</dt><dd>${day.data ? usd(day.data.total.cost_usd / 24) : '–'}</dd>
    </dl>
    ${hour.data.by_role.length ? html`<table class="narrow"><caption>Last hour by role</caption>
      <thead><tr><th scope="col">Role</th><th scope="col">Runs</th><th scope="col">Cost</th></tr></thead>
      <tbody>${hour.data.by_role.map((r) => html`<tr key=${r.role}><th scope="row">${r.role}</th><td class="num">${r.runs}</td><td class="num">${usd(r.cost_usd)}</td></tr>`)}</tbody>
    </table>` : null}`;
}

/** The overall verdict with capacity by role, the host's CPU, memory and disks (GET /api/v1/health, pushed live), and LLM cost per hour. */
export function System({ snap }: { snap: UiSnapshot }) {
  const sys = snap.health?.system;
  const res = sys?.resources;
  return html`<section aria-labelledby="system-title">
    <h2 id="system-title">System</h2>
    <p>Verdict: ${sys ? html`<${Badge} value=${sys.verdict} />` : html`<${Badge} value="unknown" label="health checks off" />`} ${fleetLine(snap.status.fleet)}</p>
    ${sys?.findings.length ? html`<ul class="findings">${sys.findings.map((f) => html`<li><${Badge} value=${f.severity} /> ${f.message}</li>`)}</ul>` : null}
    ${sys ? html`<table class="narrow capacity"><caption>Capacity by role</caption>
      <thead><tr><th scope="col">Role</th><th scope="col">Configured</th><th scope="col">Up</th><th scope="col">Healthy</th><th scope="col">Busy</th></tr></thead>
      <tbody>${Object.entries(sys.capacity).map(([role, c]) => html`<tr key=${role} data-role=${role}><th scope="row">${role}</th><td class="num">${c.configured}</td><td class="num">${c.up}</td>
        <td class="num">${c.healthy} <${Badge} value=${c.healthy >= c.configured ? 'healthy' : c.healthy > 0 ? 'degraded' : 'unhealthy'} label=${c.healthy >= c.configured ? 'full' : c.healthy > 0 ? 'reduced' : 'none'} /></td><td class="num">${c.busy}</td></tr>`)}</tbody>
    </table>` : null}
    <h3>Host</h3>
    ${res ? html`<dl class="facts host">
      <dt>CPU</dt><dd>${res.cpu_percent === undefined ? 'measuring…' : `${res.cpu_percent}%`} of ${res.cores} cores, load ${res.load1}</dd>
      <dt>Memory</dt><dd>${res.memory.used_percent}% used, ${bytes(res.memory.available_bytes)} available of ${bytes(res.memory.total_bytes)}</dd>
      ${res.disks.map((d) => html`<dt>Disk ${d.path}</dt><dd>${d.used_percent}% used, ${bytes(d.free_bytes)} free of ${bytes(d.total_bytes)}</dd>`)}
    </dl><p class="muted">A disk fuller than <code>health_checks.resource_usage.max_disk_percent</code> is a system finding (above).</p>` : html`<p>Host figures come with the health checks, which are off.</p>`}
    <h3>LLM cost per hour</h3>
    <${LlmCost} />
  </section>`;
}
