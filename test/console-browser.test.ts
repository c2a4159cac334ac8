// The console in a real headless browser (Debian's chromium, driven by playwright-core), through a
// real service: every page as each role, and the pages each role must not see; signing in and out
// with the keyboard alone; paging through a generated log; axe-core with no serious or critical
// violation; a screenshot of every page in test-results/console/.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWS } from '../src/http/console/views.js';
import { ROOT } from './helpers.js';
import { exampleRequest, testServer, type TestServer } from './server-helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) console.warn(`skipping the console browser test: no chromium at ${CHROMIUM} (apt-get install chromium)`);

const SHOTS = join(ROOT, 'test-results', 'console');
const PAGES = ['/console/log', '/console/integrity', '/console/report', '/console/exports', '/console/matrix', '/console/what-if', '/console/covenant', '/console/draft', '/console/history'];
const ROLES = ['auditor', 'privacy-officer', 'approver', 'belastingdienst'] as const;
const roleOf = (label: (typeof ROLES)[number]): keyof typeof VIEWS => (label === 'belastingdienst' ? 'partner' : label);
const DECISIONS = 120;

let s: TestServer;
let browser: Browser;
let entryId = '';

/** Signs in with the keyboard alone: Tab to the key field, type it, Enter. */
async function signInByKeyboard(page: Page, key: string, url = s.url): Promise<void> {
  await page.goto(`${url}/console`);
  for (let i = 0; i < 10 && (await page.evaluate('document.activeElement && document.activeElement.getAttribute("name")')) !== 'key'; i++) await page.keyboard.press('Tab');
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
  // the sign-in page and the menu share their address: wait for what only a session shows
  await page.waitForSelector('header button:has-text("Sign out")');
}

describe.skipIf(!haveBrowser)('the console in a browser', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    s = await testServer();
    for (let i = 0; i < DECISIONS; i++) {
      const body = i % 3 === 0 ? { ...exampleRequest, recipient: 'om' } : { ...exampleRequest, caseReference: `GEN-${i}` };
      const r = await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body });
      if (i === 1) entryId = r.body.decisionId;
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.server.close();
  });

  it('shows each role its pages and refuses it the others, without JavaScript, loading nothing from elsewhere', async () => {
    for (const label of ROLES) {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      const problems: string[] = [];
      const elsewhere: string[] = [];
      page.on('console', (m) => {
        // a refused page answers 403 on purpose; anything else the browser complains of is a fault
        if (m.type() === 'error' && !/status of 403/.test(m.text())) problems.push(m.text());
      });
      page.on('request', (r) => {
        if (!r.url().startsWith(s.url)) elsewhere.push(r.url());
      });
      await signInByKeyboard(page, s.keys[label] ?? '');
      await page.screenshot({ path: join(SHOTS, `${label}-home.png`), fullPage: true });
      const views = VIEWS[roleOf(label)].map(([href]) => href as string);
      for (const path of [...PAGES, `/console/log/${entryId}`]) {
        const res = await page.goto(`${s.url}${path}`);
        const may = views.includes(path.startsWith('/console/log/') ? '/console/log' : path);
        expect(res?.status(), `${label} ${path}`).toBe(may ? 200 : 403);
        if (!may) {
          expect(await page.textContent('main')).toMatch(/has no access to this page/);
          continue;
        }
        await page.screenshot({ path: join(SHOTS, `${label}-${path.startsWith('/console/log/') ? 'entry' : path.replace(/^\/console\//, '')}.png`), fullPage: true });
      }
      expect(problems, label).toEqual([]);
      expect(elsewhere, label).toEqual([]);
      await context.close();
    }
  });

  it('is used with the keyboard alone: sign in, follow the header to the log, an entry, and sign out', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signInByKeyboard(page, s.keys.auditor ?? '');
    const focusLink = async (text: string): Promise<void> => {
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press('Tab');
        if (String(await page.evaluate('document.activeElement ? document.activeElement.textContent : ""')).trim() === text) return;
      }
      throw new Error(`no focusable "${text}"`);
    };
    await focusLink('Decision log');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/console\/log$/);
    expect(await page.textContent('h1')).toBe('Decision log');
    await page.focus('td a');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/console\/log\/[0-9A-Z]{26}$/);
    expect(await page.textContent('h1')).toMatch(/^Entry \d+$/);
    await focusLink('Sign out');
    await page.keyboard.press('Enter');
    await page.waitForSelector('input[name="key"]');
    expect(await page.textContent('h1')).toBe('Sign in');
    await context.close();
  });

  it('pages through a generated log with its filters: every entry once, newest first', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signInByKeyboard(page, s.keys.auditor ?? '');
    const seqs: number[] = [];
    await page.goto(`${s.url}/console/log?provider=belastingdienst&limit=25`);
    for (let i = 0; i < 20; i++) {
      seqs.push(...(await page.$$eval('tbody tr td:first-child', (tds) => tds.map((td) => Number(td.textContent)))));
      const older = await page.$('a:has-text("Older entries")');
      if (!older) break;
      await older.click();
    }
    expect(seqs.length).toBe(DECISIONS);
    expect(new Set(seqs).size).toBe(DECISIONS);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    await page.goto(`${s.url}/console/log?recipient=om&limit=1000`);
    expect(await page.$$eval('tbody tr', (rows) => rows.length)).toBe(DECISIONS / 3);
    await context.close();
  });

  it('has no serious or critical accessibility violation on any page (axe-core)', async () => {
    const axe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    for (const label of ['auditor', 'privacy-officer'] as const) {
      // axe is a script: this one context lets it run past the pages' policy, which allows none
      const context = await browser.newContext({ bypassCSP: true });
      const page = await context.newPage();
      await signInByKeyboard(page, s.keys[label] ?? '');
      const views = VIEWS[label].map(([href]) => href as string).filter((p) => p !== '/console/report');
      for (const path of ['/console', ...views, ...(label === 'auditor' ? [`/console/log/${entryId}`] : [])]) {
        await page.goto(`${s.url}${path}`);
        await page.evaluate(axe);
        const result = (await page.evaluate('axe.run()')) as { violations: { id: string; impact: string; nodes: { target: unknown }[] }[] };
        const violations = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${JSON.stringify(v.nodes.map((n) => n.target))}`);
        expect(violations, `${label} ${path}`).toEqual([]);
      }
      await context.close();
    }
  });

  it('sends a visitor whose session has expired back to sign in, and refuses a form without its token', async () => {
    const short = await testServer({ consoleSessionSeconds: 2 });
    // JavaScript on only so that the test itself can alter the form; the pages run none
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await signInByKeyboard(page, short.keys['privacy-officer'] ?? '', short.url);
      await page.goto(`${short.url}/console/what-if`);
      // the same form with its token taken out, as a forger would have to post it
      await page.$eval('form[action="/console/what-if"] input[name="csrf"]', (el) => el.setAttribute('value', 'forged'));
      await page.fill('input[name="dataCategories"]', 'fiscal.income');
      await page.click('button:has-text("Simulate")');
      await page.waitForSelector('h1:text-is("Refused")', { timeout: 5000 });
      expect(await page.textContent('main')).toMatch(/not made by this console/);
      await new Promise((r) => setTimeout(r, 2200));
      await page.goto(`${short.url}/console/what-if`);
      expect(await page.textContent('h1')).toBe('Sign in');
    } finally {
      await context.close();
      await short.server.close();
    }
  });
});
