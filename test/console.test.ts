// The console (issue 17): signing in with a key that becomes a session cookie, forms that must
// carry the session's token and come from this origin, pages that follow the role, through a
// real service on a loopback port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStore } from '../src/keys/store.js';
import { ConsoleSessions, SESSION_SECONDS } from '../src/http/console/session.js';
import { dataPaths } from '../src/server.js';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, waitFor } from './helpers.js';
import { exampleRequest, testServer, type TestServer } from './server-helpers.js';

let s: TestServer;

/** A browser's view of the console: a cookie jar of one cookie, and forms posted as forms. */
class Visitor {
  cookie = '';
  constructor(private readonly origin: string) {}
  async get(path: string): Promise<{ status: number; text: string; headers: Headers }> {
    const res = await fetch(`${this.origin}${path}`, { headers: this.cookie ? { cookie: this.cookie } : {}, redirect: 'manual' });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }
  async post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
    const res = await fetch(`${this.origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.origin, ...(this.cookie && { cookie: this.cookie }), ...headers },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(set) ? '' : (set.split(';')[0] ?? '');
    return { status: res.status, text: await res.text(), headers: res.headers };
  }
  async signIn(key: string): Promise<void> {
    const res = await this.post('/console/sign-in', { key });
    expect(res.status).toBe(303);
  }
  /** The session's form token, as a page's hidden field carries it. */
  async csrf(): Promise<string> {
    const page = await this.get('/console');
    return /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  }
}

beforeAll(async () => {
  s = await testServer();
  await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: { ...exampleRequest, caseReference: 'CONSOLE-1' } });
  await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: { ...exampleRequest, recipient: 'om' } });
  await s.call('POST', '/v1/decisions', { key: s.keys.douane, body: exampleRequest });
});
afterAll(async () => {
  await s.server.close();
});

describe('the console', () => {
  it('signs in with a key, which becomes an HttpOnly, SameSite=Strict session cookie, and out again', async () => {
    const v = new Visitor(s.url);
    const first = await v.get('/console');
    expect(first.status).toBe(200);
    expect(first.text).toMatch(/<input type="password" name="key"/);
    const csp = first.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).not.toMatch(/script-src/);
    expect(first.text).not.toMatch(/<script/);

    const wrong = await v.post('/console/sign-in', { key: 'not-a-key' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toMatch(/not a valid, unrevoked API key/);

    const res = await v.post('/console/sign-in', { key: s.keys.auditor ?? '' });
    expect(res.status).toBe(303);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^covenant_console=[\w-]{40,};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/console/);
    expect(cookie).toMatch(/Max-Age=28800/);
    expect(cookie).not.toContain(s.keys.auditor);

    const menu = await v.get('/console');
    expect(menu.text).toMatch(/href="\/console\/log"/);
    expect(menu.text).not.toMatch(/href="\/console\/covenant"/);

    // signing out needs the session's token; then the cookie no longer opens anything
    const old = v.cookie;
    expect((await v.post('/console/sign-out', { csrf: 'forged' })).status).toBe(403);
    const out = await v.post('/console/sign-out', { csrf: await v.csrf() });
    expect(out.status).toBe(303);
    expect(v.cookie).toBe('');
    v.cookie = old;
    expect((await v.get('/console/log')).status).toBe(303);
  });

  it('shows an auditor the log with filters and paging, each entry with its reasons in Dutch and English and its replay', async () => {
    const v = new Visitor(s.url);
    await v.signIn(s.keys.auditor ?? '');
    const cased = await v.get('/console/log?caseReference=CONSOLE-1');
    expect(cased.status).toBe(200);
    const links = [...cased.text.matchAll(/href="\/console\/log\/([0-9A-Z]{26})"/g)].map((m) => m[1]);
    expect(links).toHaveLength(1);
    const paged = await v.get('/console/log?provider=belastingdienst&limit=1');
    expect(paged.text).toMatch(/Older entries/);
    expect((await v.get('/console/log?decision=maybe')).status).toBe(400);

    const entry = await v.get(`/console/log/${links[0]}`);
    expect(entry.status).toBe(200);
    expect(entry.text).toMatch(/<div lang="nl">Convenant NSOC, art\. 4 lid 1 staat toe dat Belastingdienst/);
    expect(entry.text).toMatch(/<div lang="en" class="muted">Convenant NSOC, art\. 4 lid 1 permits/);
    expect(entry.text).toMatch(/retention 365 days/);
    expect(entry.text).toMatch(/<span class="ok">reproduced<\/span>/);

    const integrity = await v.get('/console/integrity');
    expect(integrity.text).toMatch(/<strong class="ok">intact<\/strong>, \d+ entries/);
    expect(integrity.text).toMatch(/— covenant|\n\n— /);

    const report = await v.get('/console/report');
    expect(report.status).toBe(200);
    expect(report.headers.get('content-security-policy')).not.toMatch(/script-src/);
    expect((await v.get('/console/exports/download?format=csv')).text).toMatch(/^seq,kind,id/);
    expect((await v.get('/console/covenant')).status).toBe(403);
  });

  it('simulates from the what-if form only with the session token and from this origin, and records the simulation', async () => {
    const v = new Visitor(s.url);
    await v.signIn(s.keys['privacy-officer'] ?? '');
    const form = await v.get('/console/what-if');
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.text)?.[1] ?? '';
    expect(csrf.length).toBeGreaterThan(20);
    const fields = { provider: 'belastingdienst', recipient: 'fiod', dataCategories: 'fiscal.income', purpose: 'nsoc.tbml', legalBasis: 'awr-67-43c', caseReference: 'WHAT-IF-1' };
    expect((await v.post('/console/what-if', { ...fields, csrf: 'forged' })).status).toBe(403);
    expect((await v.post('/console/what-if', fields)).status).toBe(400);
    expect((await v.post('/console/what-if', { ...fields, csrf }, { origin: 'https://evil.example' })).status).toBe(403);
    const answered = await v.post('/console/what-if', { ...fields, csrf });
    expect(answered.status).toBe(200);
    expect(answered.text).toMatch(/Decision: <span class="permit">permit<\/span>/);
    const logged = await s.call('GET', '/v1/decisions?kind=simulation&caseReference=WHAT-IF-1', { key: s.keys.auditor });
    expect(logged.body.items).toHaveLength(1);
    expect(logged.body.items[0].caller.role).toBe('privacy-officer');
    const bad = await v.post('/console/what-if', { ...fields, dataCategories: 'no.such', csrf });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/unknown ids in request/);

    const covenant = await v.get('/console/covenant');
    expect(covenant.text).toMatch(/Convenant NSOC, art\. 4 lid 1/);
    expect(covenant.text).toMatch(/after approval bevoegd-gezag/);
    // which policy tests exercise each article
    expect(covenant.text).toMatch(/art-4-1-fiscal-to-fiod[\s\S]*?<li>FIOD may receive income data for TBML<\/li>/);
    const matrix = await v.get('/console/matrix?provider=belastingdienst&category=fiscal');
    expect(matrix.status).toBe(200);
    const providers = [...matrix.text.matchAll(/<tr><td>([^<]+)<\/td><td>[^<]+<\/td><td>([^<]+)</g)];
    expect(providers.length).toBeGreaterThan(0);
    for (const [, provider, category] of providers) {
      expect(provider).toMatch(/\(belastingdienst\)$/);
      expect(category).toMatch(/\(fiscal(\.[\w.-]+)?\)$/);
    }
    expect((await v.get('/console/matrix?provider=fiod&recipient=om')).text).toMatch(/wpg-19 for [^<]* after approval bevoegd-gezag/);
    expect((await v.get('/console/matrix?at=not-a-date')).status).toBe(400);
    expect((await v.get('/console/log')).status).toBe(403);
  });

  it('ends the sessions of a key once it is revoked', async () => {
    const store = await KeyStore.open(dataPaths(s.dataDir).keys);
    const { key, record } = await store.add({ role: 'auditor' }, new Date());
    const v = new Visitor(s.url);
    await waitFor(async () => ((await v.post('/console/sign-in', { key })).status === 303 ? true : undefined));
    expect((await v.get('/console/log')).status).toBe(200);
    await store.revoke(record.id, new Date());
    await waitFor(async () => ((await v.get('/console/log')).status === 303 ? true : undefined));
  });

  it('checks a draft before it goes live: errors at file:line, the policy tests and the impact on logged decisions', async () => {
    const v = new Visitor(s.url);
    await v.signIn(s.keys['privacy-officer'] ?? '');
    const page = await v.get('/console/draft');
    expect(page.text).toMatch(/<option>rules\/fiscal\.yaml<\/option>/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const fiscal = readFileSync(join(ROOT, 'rules', 'fiscal.yaml'), 'utf8');
    const turned = fiscal.replace(/(id: art-4-1-fiscal-to-fiod[\s\S]*?effect: )permit/, '$1deny');
    expect(turned).not.toBe(fiscal);
    const checked = await v.post('/console/draft', { csrf, file: 'rules/fiscal.yaml', content: turned });
    expect(checked.status).toBe(200);
    expect(checked.text).toMatch(/<span class="ok">valid<\/span>/);
    expect(checked.text).toMatch(/<span class="bad">FAIL<\/span> FIOD may receive/);
    expect(checked.text).toMatch(/[1-9]\d* would be decided otherwise/);
    expect(checked.text).toMatch(/<td>art-4-1-fiscal-to-fiod<\/td>/);
    const broken = await v.post('/console/draft', { csrf, file: '', name: 'rules/new.yaml', content: 'rules:\n  - { id: art-x, effect: permit, categories: [no.such] }\n' });
    expect(broken.text).toMatch(/<span class="bad">invalid<\/span>/);
    expect(broken.text).toMatch(/<code>rules\/new\.yaml:2:\d+<\/code> error: unknown data category `no\.such`/);
    expect((await v.post('/console/draft', { csrf, file: '', name: '../../etc/passwd', content: 'x' })).status).toBe(400);
    // nothing went live
    expect((await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: exampleRequest })).body.decision).toBe('permit');
  });

  it('lists the policy versions with when each went live, and what changed between two, article by article', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'covenant-history-'));
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    cpSync(join(ROOT, 'rules'), join(dir, 'rules'), { recursive: true });
    const h = await testServer({ policies: join(dir, 'policies'), rules: join(dir, 'rules') });
    try {
      const first = (await h.call('GET', '/v1/policy', { key: h.keys.auditor })).body.policyVersion as string;
      const file = join(dir, 'rules', 'fiscal.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('days: 365', 'days: 300'));
      const second = await waitFor(async () => {
        const now = (await h.call('GET', '/v1/policy', { key: h.keys.auditor })).body.policyVersion as string;
        return now !== first ? now : undefined;
      });
      const v = new Visitor(h.url);
      await v.signIn(h.keys['privacy-officer'] ?? '');
      const list = await v.get('/console/history');
      expect(list.text).toMatch(new RegExp(`<code>${second}</code> <strong>\\(serving\\)</strong>`));
      expect(list.text).toContain(`<code>${first}</code>`);
      const diff = await v.get(`/console/history?a=${first}&b=${second}`);
      expect(diff.text).toMatch(/<li>changed art-4-1-fiscal-to-fiod: obligations<\/li>/);
      expect((await v.get('/console/history?a=nope')).status).toBe(400);
    } finally {
      await h.server.close();
    }
  });

  it('ends a session after its eight hours, and for a key no longer active', async () => {
    const caller = { keyId: 'k1', role: 'auditor' as const };
    let active = true;
    const sessions = new ConsoleSessions((id) => (active && id === 'k1' ? caller : undefined));
    const t0 = Date.parse('2026-01-01T08:00:00Z');
    const { token } = await sessions.start(caller, t0);
    expect((await sessions.find(token, t0 + SESSION_SECONDS * 1000 - 1))?.caller).toBe(caller);
    expect(await sessions.find(token, t0 + SESSION_SECONDS * 1000)).toBeUndefined();
    // expired means gone: an earlier clock does not bring it back
    expect(await sessions.find(token, t0)).toBeUndefined();
    const second = (await sessions.start(caller, t0)).token;
    active = false;
    expect(await sessions.find(second, t0)).toBeUndefined();
    expect(await sessions.find('made-up', t0)).toBeUndefined();
  });
});
