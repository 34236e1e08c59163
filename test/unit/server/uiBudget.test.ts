import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadUiAssets, UI_DIR } from '../../../src/server/ui/uiAssets.js';

/** The whole page (HTML, script, stylesheet), gzipped, bytes: the budget. */
const BUDGET = 100 * 1024;

describe('the web dashboard bundle (dist/ui, built by npm run build)', () => {
  const assets = loadUiAssets();

  it('exists: npm run build made it', () => {
    expect([...assets.keys()].sort(), `nothing under ${UI_DIR}: run npm run build`).toEqual(['assets/app.css', 'assets/app.js', 'index.html']);
  });

  it(`weighs at most ${BUDGET / 1024} KB gzipped, everything the page loads`, () => {
    const total = [...assets.values()].reduce((s, a) => s + gzipSync(a.body, { level: 9 }).length, 0);
    expect(total).toBeGreaterThan(1000);
    expect(total).toBeLessThanOrEqual(BUDGET);
  });

  it('loads nothing from elsewhere: no http(s) URL in the page or its script', () => {
    const html = readFileSync(`${UI_DIR}/index.html`, 'utf8');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const js = assets.get('assets/app.js')?.body.toString('utf8') ?? '';
    expect(js).not.toMatch(/(import|fetch|EventSource)\(\s*["'`]https?:/);
  });
});
