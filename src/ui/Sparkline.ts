import { html } from './html.js';

/** A small inline SVG line of the last values, with the latest figure as its accessible name. */
export function Sparkline({ values, label }: { values: readonly number[]; label: string }) {
  const w = 80;
  const hgt = 20;
  if (values.length < 2) return html`<span class="muted">${label}</span>`;
  const max = Math.max(...values, 1e-9);
  const step = w / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(hgt - (v / max) * (hgt - 2) - 1).toFixed(1)}`).join(' ');
  return html`<span class="spark"><svg width=${w} height=${hgt} viewBox="0 0 ${w} ${hgt}" role="img" aria-label=${label}><polyline points=${points} /></svg> <span>${label}</span></span>`;
}
