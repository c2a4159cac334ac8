// /docs: Swagger UI over /openapi.json, from the npm package, under a content security policy
// without inline script, in a real headless browser (Debian's chromium, driven by playwright-core).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from './server-helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);

let s: TestServer;
let browser: Browser;

describe('the API documentation at /docs', () => {
  beforeAll(async () => {
    s = await testServer();
  });
  afterAll(async () => {
    await browser?.close();
    await s?.server.close();
  });

  it('is a page and its assets from this origin, with a policy that allows no inline script', async () => {
    const page = await fetch(`${s.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self';/);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    const html = await page.text();
    expect(html).not.toMatch(/<script>[^<]/);
    expect(html).not.toMatch(/https?:\/\//);
    for (const [path, type] of [['/docs/swagger-ui-bundle.js', 'text/javascript; charset=utf-8'], ['/docs/swagger-ui.css', 'text/css; charset=utf-8'], ['/docs/init.js', 'text/javascript; charset=utf-8']]) {
      const res = await fetch(`${s.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect((await res.text()).length).toBeGreaterThan(100);
    }
    expect((await fetch(`${s.url}/docs/other.js`)).status).toBe(404);
    expect((await fetch(`${s.url}/docs`, { method: 'POST' })).status).toBe(405);
  });

  it.skipIf(!haveBrowser)('shows every operation of /openapi.json in a browser, loading nothing from elsewhere and breaking no policy', async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(s.url) && !r.url().startsWith('data:')) elsewhere.push(r.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${s.url}/docs`, { waitUntil: 'load' });
    await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
    const shown = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path') ?? e.textContent ?? ''));
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map(() => p));
    expect(shown.length).toBe(operations.length);
    expect(new Set(shown.map((x) => x.replace(/\u200b/g, '')))).toEqual(new Set(Object.keys(doc.paths)));
    expect(await page.textContent('.info .title')).toMatch(/covenant/i);
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
  });
});
