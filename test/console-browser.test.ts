// The console in a real headless browser (Debian's chromium, driven by playwright-core): signed in
// through its form, followed by its links, with no script and no policy broken.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRequest, testServer, type TestServer } from './server-helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) console.warn(`skipping the console browser test: no chromium at ${CHROMIUM} (apt-get install chromium)`);

let s: TestServer;
let browser: Browser;

describe.skipIf(!haveBrowser)('the console in a browser', () => {
  beforeAll(async () => {
    s = await testServer();
    await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: exampleRequest });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await s?.server.close();
  });

  it('is used by an auditor without JavaScript: sign in, the log, an entry, integrity, sign out', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const problems: string[] = [];
    const elsewhere: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(s.url)) elsewhere.push(r.url());
    });
    await page.goto(`${s.url}/console`);
    await page.fill('input[name="key"]', s.keys.auditor ?? '');
    await page.click('button:has-text("Sign in")');
    await page.click('header a:has-text("Decision log")');
    expect(await page.textContent('h1')).toBe('Decision log');
    await page.click('td a >> nth=0');
    expect(await page.textContent('h1')).toMatch(/^Entry \d+$/);
    expect(await page.textContent('main')).toMatch(/reproduced/);
    await page.click('header a:has-text("Integrity")');
    expect(await page.textContent('main')).toMatch(/intact/);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'covenant_console')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    await page.click('button:has-text("Sign out")');
    expect(await page.textContent('h1')).toBe('Sign in');
    expect(problems).toEqual([]);
    expect(elsewhere).toEqual([]);
    await context.close();
  });
});
