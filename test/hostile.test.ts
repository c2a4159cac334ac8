// What an outside probe of the service found, each held by a test through real servers, files and
// processes: hostile text in exports and on terminals, bodies that are not plain JSON, pipes.
/* eslint-disable no-control-regex -- these tests look for control characters */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { BIN, cli, tempTree } from './helpers.js';
import { exampleRequest, testServer, type TestServer } from './server-helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
});
afterAll(async () => {
  await s.server.close();
});

const ESC = '\u001b';
const hostile = ['=1+1', '=HYPERLINK("http://evil.example","click")', '+1', '-2+3', '@SUM(A1)', '\tx', `${ESC}[31mred${ESC}[0m\u0007`];

describe('CSV formula injection', () => {
  it('neutralises cells that a spreadsheet would take for formulas, and no control character reaches the CSV, over HTTP and from the CLI', async () => {
    for (const provider of hostile) {
      const r = await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: { provider, recipient: 'fiod', dataCategories: ['fiscal.income'], purpose: 'nsoc.tbml', legalBasis: 'awr-67-43c' } });
      expect([400, 403, 422]).toContain(r.status);
    }
    const http = await (await fetch(`${s.url}/v1/audit/export?format=csv`, { headers: { authorization: `Bearer ${s.keys.auditor}` } })).text();
    const offline = cli(['audit', 'export', '--format', 'csv', '--data', s.dataDir]);
    expect(offline.status).toBe(0);
    for (const csv of [http, offline.stdout]) {
      expect(csv).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/);
      const rows = parse(csv, { columns: true }) as Record<string, string>[];
      const providers = rows.filter((row) => row.kind === 'refusal').map((row) => row.provider);
      for (const cell of providers) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      expect(providers).toContain("'=1+1");
      expect(providers).toContain(`'=HYPERLINK("http://evil.example","click")`);
    }
  });

  it('neutralises formulas in the matrix as CSV, and HTML in its Markdown', () => {
    const dir = tempTree({
      'policies/p.yaml': [
        'covenant: { id: t, title: T, validFrom: 2025-01-01 }',
        'partners: [{ id: "=cmd|calc" }, { id: b }]',
        'dataCategories: [{ id: fiscal }]',
        'purposes: [{ id: p }]',
        'legalBases: [{ id: lb, citation: "Wet X", providers: ["=cmd|calc"], categories: [fiscal] }]',
      ].join('\n'),
      'rules/r.yaml': 'rules:\n  - { id: "<img/src=x>", citation: "Art. 1", effect: permit, providers: ["=cmd|calc"], recipients: [b] }\n',
    });
    const args = ['--policies', `${dir}/policies`, '--rules', `${dir}/rules`, '--at', '2025-06-01'];
    const csv = cli(['matrix', ...args, '--format', 'csv']);
    expect(csv.status).toBe(0);
    const cells = (parse(csv.stdout) as string[][]).flat();
    expect(cells).toContain("'=cmd|calc");
    for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    const md = cli(['matrix', ...args, '--format', 'md']);
    expect(md.stdout).toContain('&lt;img/src=x&gt;');
    expect(md.stdout).not.toMatch(/<img/);
  });
});

describe('terminal output', () => {
  it('never carries an ESC or BEL from the data to a terminal', () => {
    const data = tempTree({});
    expect(cli(['keys', 'add', '--role', 'auditor', '--name', `ops${ESC}[2J${ESC}]0;pwned\u0007`, '--data', data]).status).toBe(0);
    const listed = cli(['keys', 'list', '--data', data]);
    expect(listed.stdout).toContain('ops');
    expect(listed.stdout).not.toMatch(/[\u001b\u0007]/);
    const dir = tempTree({ 'policies/p.yaml': `covenant: { id: t, title: "x${ESC}]0;pwned\u0007" }\npartners: [{ id: "${ESC}[2J" }]\n` });
    const r = cli(['validate', '--policies', `${dir}/policies`, '--rules', `${dir}/policies`]);
    expect(r.stdout + r.stderr).not.toMatch(/[\u001b\u0007]/);
  });
});

describe('bodies that are not plain JSON', () => {
  const post = (headers: Record<string, string>, raw: string) => fetch(`${s.url}/v1/decisions`, { method: 'POST', headers: { authorization: `Bearer ${s.keys.belastingdienst}`, ...headers }, body: raw });
  const body = JSON.stringify({ provider: 'belastingdienst', recipient: 'fiod', dataCategories: ['fiscal.income'], purpose: 'nsoc.tbml', legalBasis: 'awr-67-43c' });

  it('refuses a body sent as another type or compressed with 415, and records the refusal', async () => {
    for (const headers of <Record<string, string>[]>[{ 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, { 'content-type': 'application/json; charset=latin1' }]) {
      const r = await post(headers, body);
      expect(r.status).toBe(415);
      expect(((await r.json()) as { errors: { message: string }[] }).errors[0]?.message).toMatch(/not supported|only UTF-8/);
    }
    expect((await post({ 'content-type': 'application/json; charset=utf-8' }, body)).status).toBe(200);
    expect((await post({ 'content-type': 'application/problem+json' }, body)).status).toBe(200);
    const refusals = await s.call('GET', '/v1/decisions?kind=refusal&limit=10', { key: s.keys.auditor });
    expect(refusals.body.items.some((e: { status: number }) => e.status === 415)).toBe(true);
  });

  it('refuses a request whose object holds a key twice (JSON.parse would silently keep the last)', async () => {
    const twice = body.replace('"provider":"belastingdienst"', '"subjectCount":5000,"provider":"belastingdienst","subjectCount":1');
    const r = await post({ 'content-type': 'application/json' }, twice);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { errors: { message: string }[] }).errors[0]?.message).toContain('`subjectCount` appears twice');
    // quotes and colons inside strings are no keys
    const tricky = body.replace('"legalBasis"', '"context":{"note":"he said \\"a\\": no"},"legalBasis"');
    expect((await post({ 'content-type': 'application/json' }, tricky)).status).toBe(200);
    // a key that ends in an escaped backslash is a key all the same: it does not hide the repeat
    const hidden = twice.replace('"legalBasis"', '"context":{"path\\\\":1},"legalBasis"');
    expect(JSON.parse(hidden).context).toEqual({ 'path\\': 1 });
    const refused = await post({ 'content-type': 'application/json' }, hidden);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0]?.message).toContain('`subjectCount` appears twice');
  });
});

describe('a reader that stops early', () => {
  it('ends `covenant audit export | head` quietly, without a stack trace', async () => {
    for (let i = 0; i < 200; i++) await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: { provider: 'belastingdienst', recipient: 'fiod', dataCategories: ['fiscal.income'], purpose: 'nsoc.tbml', legalBasis: 'awr-67-43c' } });
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [BIN, 'audit', 'export', '--data', s.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((r) => child.once('exit', r));
    expect(stderr).not.toMatch(/EPIPE|at .*\(/);
    expect(code).toBe(0);
  });
});

describe('the data folder', () => {
  it('is its owner\'s alone: folders 0700, files 0600, whatever the umask', async () => {
    const { readdirSync, statSync } = await import('node:fs');
    const { join } = await import('node:path');
    const walk = (p: string): string[] => [p, ...(statSync(p).isDirectory() ? readdirSync(p).flatMap((f) => walk(join(p, f))) : [])];
    const paths = walk(s.dataDir);
    expect(paths.some((p) => p.endsWith('tree.hashes'))).toBe(true);
    expect(paths.some((p) => p.endsWith('.ndjson'))).toBe(true);
    for (const p of paths) expect([p, statSync(p).mode & 0o077]).toEqual([p, 0]);
  });

  it('is made on a first run that names a folder not there yet, with its log key, owner only', async () => {
    const { mkdtempSync, statSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { serveProcess } = await import('./server-helpers.js');
    const dataDir = join(mkdtempSync(join(tmpdir(), 'covenant-first-')), 'new', 'data');
    const { child, url } = await serveProcess(dataDir);
    try {
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(statSync(join(dataDir, 'log-key')).mode & 0o777).toBe(0o600);
    } finally {
      child.kill();
    }
  });
});

describe('connections that hold the service', () => {
  it('closes a connection that sends its headers too slowly, and holds no more connections than allowed', async () => {
    const { connect } = await import('node:net');
    const { serveProcess } = await import('./server-helpers.js');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { child, url } = await serveProcess(mkdtempSync(join(tmpdir(), 'covenant-conn-')), ['--max-connections', '3']);
    const port = Number(new URL(url).port);
    const open = () =>
      new Promise<{ closedAt: Promise<number>; socket: import('node:net').Socket }>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => resolve({ socket, closedAt: new Promise((r) => socket.once('close', () => r(Date.now()))) }));
        socket.on('error', () => undefined);
        socket.resume(); // read what comes (a 408), so that the close is seen
      });
    try {
      const started = Date.now();
      const slow = await open();
      slow.socket.write('POST /v1/decisions HTTP/1.1\r\nHost: x\r\n'); // and never the rest
      const [, b] = [await open(), await open()];
      const extra = await open();
      // beyond the limit: closed at once
      expect((await extra.closedAt) - started).toBeLessThan(3000);
      expect(b.socket.destroyed).toBe(false);
      // the slow one: closed once its headers are overdue (10 s, checked every second)
      const slowClosed = (await slow.closedAt) - started;
      expect(slowClosed).toBeGreaterThan(8000);
      expect(slowClosed).toBeLessThan(14000);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});

describe('a partner filling the disk with refusals', () => {
  it('is answered with at most 20 errors and the count of the rest, and the log keeps the start of the body, its size and its hash', async () => {
    const { createHash } = await import('node:crypto');
    const body = { provider: 'belastingdienst', recipient: 'fiod', dataCategories: Array.from({ length: 10_000 }, (_, i) => i), purpose: 'nsoc.tbml', legalBasis: 'awr-67-43c' };
    const raw = JSON.stringify(body);
    const r = await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, raw, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.body.errors).toHaveLength(21);
    expect(r.body.errors[20].message).toMatch(/^and \d+ more errors$/);
    expect(JSON.stringify(r.body).length).toBeLessThan(8_000);
    const [entry] = (await s.call('GET', '/v1/decisions?kind=refusal&limit=1', { key: s.keys.auditor })).body.items;
    expect(entry.request).toEqual({ truncated: true, bytes: raw.length, sha256: `sha256:${createHash('sha256').update(raw).digest('hex')}`, start: raw.slice(0, 4096) });
    expect(JSON.stringify(entry).length).toBeLessThan(12_000);
  });
});

describe('a key whose requests keep being refused', () => {
  it('is answered 429 with Retry-After once over its limit, recorded in aggregate, while other keys go on', async () => {
    const t = await testServer({ throttle: { refusalsPerSecond: 5, requestsPerSecond: 0 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await t.call('POST', '/v1/decisions', { key: t.keys.douane, body: { provider: 'douane' } })).status);
      expect(statuses.slice(0, 10).every((x) => x === 400)).toBe(true);
      const limited = statuses.filter((x) => x === 429).length;
      expect(limited).toBeGreaterThan(20);
      const r = await t.call('POST', '/v1/decisions', { key: t.keys.douane, body: { provider: 'douane' } });
      expect(r.status).toBe(429);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // another key is not held back
      expect((await t.call('POST', '/v1/decisions', { key: t.keys.belastingdienst, body: exampleRequest })).status).toBe(200);
      // every 429 is in the log, in aggregate: the counts add up to those answered
      await new Promise((res) => setTimeout(res, 1500));
      const entries = (await t.call('GET', '/v1/decisions?kind=refusal&limit=1000', { key: t.keys.auditor })).body.items as { status: number; errors: { message: string }[] }[];
      const counted = entries.filter((e) => e.status === 429).reduce((n, e) => n + Number(/^(\d+) request/.exec(e.errors[0]?.message ?? '')?.[1]), 0);
      expect(counted).toBe(limited + 1);
      expect(entries.filter((e) => e.status === 429).length).toBeLessThan(limited / 2);
    } finally {
      await t.server.close();
    }
  });
});

describe('a leap second in a review query', () => {
  it('is the instant after 23:59:59, never a 500 nor a bound silently dropped', async () => {
    await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: exampleRequest });
    for (const path of ['/v1/audit/report', '/v1/decisions', '/v1/audit/export/digest']) {
      const r = await s.call('GET', `${path}?from=2016-12-31T23:59:60Z`, { key: s.keys.auditor });
      expect([path, r.status]).toEqual([path, 200]);
    }
    const before = await s.call('GET', '/v1/decisions?to=2016-12-31T23:59:60Z', { key: s.keys.auditor });
    expect(before.body.items).toEqual([]);
    const report = await s.call('GET', '/v1/audit/report?to=2016-12-31T23:59:60Z', { key: s.keys.auditor });
    expect(report.body.decisions).toEqual({ permit: 0, deny: 0 });
  });
});

describe('/metrics', () => {
  it('asks for the metrics key when one is set (COVENANT_METRICS_KEY), and is open otherwise', async () => {
    const { serveProcess } = await import('./server-helpers.js');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    process.env.COVENANT_METRICS_KEY = 'scrape-secret';
    const { child, url } = await serveProcess(mkdtempSync(join(tmpdir(), 'covenant-metrics-'))).finally(() => delete process.env.COVENANT_METRICS_KEY);
    try {
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const ok = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer scrape-secret' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('covenant_');
    } finally {
      child.kill('SIGKILL');
    }
    expect((await fetch(`${s.url}/metrics`)).status).toBe(200);
  });
});

describe('rule files with hostile aliases', () => {
  const covenantWith = (rule: string) =>
    tempTree({
      'policies/p.yaml': 'covenant: { id: t, title: T, validFrom: 2025-01-01 }\npartners: [{ id: a }, { id: b }]\ndataCategories: [{ id: fiscal }]\npurposes: [{ id: p }]\nlegalBases: [{ id: lb, citation: "Wet X", providers: [a], categories: [fiscal] }]\n',
      'rules/r.yaml': rule,
    });
  // doubling: 2^18 values from a text of a few hundred bytes
  const doubling = ['d0: &d0 [1, 2]', ...Array.from({ length: 17 }, (_, i) => `d${i + 1}: &d${i + 1} [*d${i}, *d${i}]`)].join('\n');
  const cases = {
    'a when that holds itself': 'rules:\n  - id: r1\n    citation: x\n    effect: permit\n    when: &w { all: [ *w ] }\n',
    'a value that holds itself': 'rules:\n  - id: r1\n    citation: x\n    effect: permit\n    when: { all: [ { fact: subjectCount, operator: in, value: &a [ *a ] } ] }\n',
    'a value that aliases make huge': `x:\n${doubling.replace(/^/gm, '  ')}\nrules:\n  - id: r1\n    citation: x\n    effect: permit\n    when: { all: [ { fact: subjectCount, operator: in, value: *d17 } ] }\n`,
  };
  for (const [name, rule] of Object.entries(cases)) {
    it(`refuses ${name} with file:line:col, from validate and from POST /v1/policy/validate, never crashing`, async () => {
      const dir = covenantWith(rule);
      const r = cli(['validate', '--policies', `${dir}/policies`, '--rules', `${dir}/rules`]);
      expect(r.status).toBe(1);
      expect(r.stdout + r.stderr).toMatch(/r\.yaml:\d+:\d+: error: .*alias/);
      expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
      const posted = await s.call('POST', '/v1/policy/validate', { key: s.keys['privacy-officer'], body: { files: [{ name: 'rules/r.yaml', content: rule }] } });
      expect(posted.status).toBeLessThan(500);
      expect(JSON.stringify(posted.body)).toMatch(/alias/);
    });
  }
});

describe('a key twice in a rule file', () => {
  it('is an error at the repeated key, in a nested map too, in YAML and JSON', () => {
    const dir = tempTree({
      'policies/p.yaml': 'covenant: { id: t, title: T, validFrom: 2025-01-01 }\npartners: [{ id: a }, { id: b }]\ndataCategories: [{ id: fiscal }]\npurposes: [{ id: p }]\nlegalBases: [{ id: lb, citation: "Wet X", providers: [a], categories: [fiscal] }]\n',
      'rules/r.yaml': 'rules:\n  - id: r1\n    citation: x\n    effect: permit\n    effect: deny\n',
      'rules/j.json': '{"rules": [{"id": "r2", "citation": "x", "effect": "permit", "citation": "y"}]}',
    });
    const r = cli(['validate', '--policies', `${dir}/policies`, '--rules', `${dir}/rules`]);
    expect(r.status).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/r\.yaml:5:5: error: Map keys must be unique: `effect` appears twice/);
    expect(out).toMatch(/j\.json:1:\d+: error: Map keys must be unique: `citation` appears twice/);
  });
});

describe('messages about long values', () => {
  it('stay a line or two: a long list in a rule is shown by its first items and how many more', () => {
    const codes = Array.from({ length: 5000 }, (_, i) => `code-${i}-${'x'.repeat(20)}`);
    const dir = tempTree({
      'policies/p.yaml': 'covenant: { id: t, title: T, validFrom: 2025-01-01 }\npartners: [{ id: a }, { id: b }]\ndataCategories: [{ id: fiscal }]\npurposes: [{ id: p }]\nlegalBases: [{ id: lb, citation: "Wet X", providers: [a], categories: [fiscal] }]\n',
      'rules/r.json': JSON.stringify({ rules: [{ id: 'r1', citation: 'Art. 1', effect: 'permit', when: { all: [{ fact: 'context', path: '$.code', operator: 'in', value: codes }] } }] }),
    });
    const r = cli(['decide', '--policies', `${dir}/policies`, '--rules', `${dir}/rules`], {
      input: JSON.stringify({ provider: 'a', recipient: 'b', dataCategories: ['fiscal'], purpose: 'p', legalBasis: 'lb', requestedAt: '2025-03-01T10:00:00Z', context: { code: 'y'.repeat(500) } }),
    });
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout) as { decision: string; nearMisses: { misses: { message: { nl: string; en: string } }[] }[] };
    expect(d.decision).toBe('deny');
    const messages = d.nearMisses.flatMap((n) => n.misses.flatMap((m) => [m.message.nl, m.message.en]));
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(m.length).toBeLessThan(2000);
    expect(messages.join('\n')).toMatch(/\(\+4990\)/);
  });
});

describe('requestedAt that JavaScript time cannot hold as written', () => {
  it('is malformed (400): a leap second, and the years 0001-0099', async () => {
    for (const requestedAt of ['2025-06-30T23:59:60Z', '0099-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00']) {
      const r = await s.call('POST', '/v1/simulations', { key: s.keys.auditor, body: { ...exampleRequest, requestedAt } });
      expect([requestedAt, r.status]).toEqual([requestedAt, 400]);
    }
    expect((await s.call('POST', '/v1/simulations', { key: s.keys.auditor, body: { ...exampleRequest, requestedAt: '0100-01-01T00:00:00Z' } })).status).toBe(200);
  });
});
