// The report's HTML in a real headless browser (Debian's chromium, driven by playwright-core): it
// renders, its figures match the JSON, and a screenshot is kept in test-results/.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';
import { exampleRequest, testServer, type TestServer } from './server-helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// .ci/run installs chromium; a developer's machine without it skips, and says so.
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) console.warn(`skipping the browser test: no chromium at ${CHROMIUM} (apt-get install chromium)`);

let s: TestServer;
let browser: Browser;

describe.skipIf(!haveBrowser)('the privacy-review report in a browser', () => {
  beforeAll(async () => {
    s = await testServer();
    for (let i = 0; i < 5; i++) await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: exampleRequest });
    for (let i = 0; i < 2; i++) await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: { ...exampleRequest, recipient: 'om' } });
    await s.call('POST', '/v1/decisions', { key: s.keys.douane, body: exampleRequest });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await s?.server.close();
  });

  it('renders the charts with the figures of the JSON report', async () => {
    const json = (await s.call('GET', '/v1/audit/report', { key: s.keys.auditor })).body;
    const html = (await s.call('GET', '/v1/audit/report?format=html', { key: s.keys.auditor })).body as string;
    const page = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.setContent(html, { waitUntil: 'load' });
    expect(await page.textContent('#permit')).toBe(String(json.decisions.permit));
    expect(await page.textContent('#deny')).toBe(String(json.decisions.deny));
    expect(await page.textContent('#refusals')).toBe(String(json.refusals));
    const bars = await page.$$eval('#by-pair g', (gs) => gs.map((g) => ({ label: g.getAttribute('data-label'), permit: Number(g.getAttribute('data-permit')), deny: Number(g.getAttribute('data-deny')), width: (g.querySelector('rect') as unknown as { getBBox(): { width: number } }).getBBox().width })));
    // names beside ids, Dutch / English, from the covenant's vocabulary
    const named = (id: string): string => {
      const n = json.names.partners[id] as { nl: string; en: string };
      return `${n.nl === n.en ? n.nl : `${n.nl} / ${n.en}`} (${id})`;
    };
    expect(bars.map(({ label, permit, deny }) => ({ label, permit, deny }))).toEqual(json.byPair.map((p: { provider: string; recipient: string; permit: number; deny: number }) => ({ label: `${named(p.provider)} → ${named(p.recipient)}`, permit: p.permit, deny: p.deny })));
    const trend = await page.$$eval('#trend g', (gs) => gs.map((g) => Number(g.getAttribute('data-permit')) + Number(g.getAttribute('data-deny'))));
    expect(trend.reduce((a, b) => a + b, 0)).toBe(json.decisions.permit + json.decisions.deny);
    expect(await page.textContent('#integrity')).toContain(`${json.integrity.entries} entries`);
    expect(bars[0]!.width).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:'))).toEqual([]);
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'report.png'), fullPage: true });
  });
});
