// The service of CONTRACT 3, through a real server on a loopback port.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDecision } from '../src/schema/index.js';
import { KeyStore } from '../src/keys/store.js';
import { dataPaths } from '../src/server.js';
import { exampleRequest, testServer, type TestServer } from './server-helpers.js';
import { ROOT, waitFor } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
});
afterAll(async () => {
  await s.server.close();
});

const problemShape = (body: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
  expect(body).toMatchObject({ type: expect.any(String), title: expect.any(String), status: expect.any(Number), errors: expect.any(Array) });
  expect(JSON.stringify(body)).not.toMatch(/node_modules|\.ts:|\/work\/|at [A-Za-z]+ \(|ajv|hono/i);
};

describe('deciding', () => {
  it('answers a partner with a decision that matches the published schema, recorded before it was sent', async () => {
    const r = await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: exampleRequest });
    expect(r.status).toBe(200);
    expect(validateDecision(r.body)).toEqual([]);
    expect(r.body).toMatchObject({ decision: 'permit', categories: [{ category: 'fiscal.income', rules: ['art-4-1-fiscal-to-fiod'] }], obligations: [{ type: 'retention', days: 365 }] });
    const stored = await s.call('GET', `/v1/decisions/${r.body.decisionId}`, { key: s.keys.auditor });
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({
      kind: 'decision',
      id: r.body.decisionId,
      caller: { role: 'partner', partner: 'belastingdienst' },
      request: exampleRequest,
      policyVersion: r.body.policyVersion,
      // the answer is the recorded decision and its receipt
      decision: Object.fromEntries(Object.entries(r.body).filter(([k]) => k !== 'receipt')),
    });
    expect(stored.body.decision).not.toHaveProperty('receipt');
  });

  it('lets the recipient ask too, and refuses a partner that is not party', async () => {
    expect((await s.call('POST', '/v1/decisions', { key: s.keys.fiod, body: exampleRequest })).status).toBe(200);
    const r = await s.call('POST', '/v1/decisions', { key: s.keys.douane, body: exampleRequest });
    expect(r.status).toBe(403);
    problemShape(r.body);
  });

  it('answers 400 for malformed, 422 for unknown ids, 400 for both, 422 for provider = recipient', async () => {
    const { purpose: _, ...withoutPurpose } = exampleRequest;
    const cases: [unknown, number, string?][] = [
      [{ ...exampleRequest, dataCategories: [] }, 400],
      [{ ...exampleRequest, surplus: 1 }, 400],
      [withoutPurpose, 400],
      [{ ...exampleRequest, purpose: 'nsoc.unknown' }, 422, 'unknown ids in request'],
      [{ ...exampleRequest, purpose: 'nsoc.unknown', subjectCount: -3 }, 400],
      [{ ...exampleRequest, recipient: 'belastingdienst' }, 422, 'the provider is also the recipient'],
      [{ ...exampleRequest, recipient: 'belastingdienst', purpose: 'nsoc.unknown' }, 422, 'unknown ids in request, and the provider is also the recipient'],
    ];
    for (const [body, status, title] of cases) {
      const r = await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body });
      expect(r.status, JSON.stringify(body)).toBe(status);
      if (title) expect(r.body.title).toBe(title);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      problemShape(r.body);
      expect(r.body.errors.length).toBeGreaterThan(0);
    }
    // a missing field's path names the field
    expect((await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: withoutPurpose })).body.errors).toEqual([{ path: '/purpose', message: 'missing required field `purpose`' }]);
    expect((await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, raw: '{"provider": ', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, raw: 'x'.repeat(70_000) })).status).toBe(413);
  });

  it('refuses a body that is not UTF-8 (or holds the replacement character), and records the refusal', async () => {
    const notUtf8 = 'the body is not valid UTF-8, or holds U+FFFD (the replacement character)';
    const json = Buffer.from(JSON.stringify({ ...exampleRequest, purpose: 'nsoc.tbml\u00e9' }));
    // the é's two bytes, cut to a lone lead byte: not UTF-8
    const bad = Buffer.concat([json.subarray(0, json.indexOf(0xc3)), Buffer.from([0xc3]), json.subarray(json.indexOf(0xc3) + 2)]);
    const r = await fetch(`${s.url}/v1/decisions`, { method: 'POST', headers: { authorization: `Bearer ${s.keys.belastingdienst}`, 'content-type': 'application/json' }, body: bad });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { errors: { message: string }[] };
    expect(body.errors[0]!.message).toBe(notUtf8);
    const logged = await s.call('GET', '/v1/decisions?kind=refusal&limit=1', { key: s.keys.auditor });
    expect(logged.body.items[0]).toMatchObject({ kind: 'refusal', status: 400, route: 'POST /v1/decisions', errors: [{ message: notUtf8 }] });
    // U+FFFD sent as proper UTF-8 cannot be told from what decoding left for bad bytes
    const replacement = await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: { ...exampleRequest, caseReference: 'x\ufffd' } });
    expect([replacement.status, replacement.body.errors[0].message]).toEqual([400, notUtf8]);
    // the same body as proper UTF-8 reads, and is refused only for naming an unknown purpose
    expect((await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, raw: json.toString('utf8'), headers: { 'content-type': 'application/json' } })).status).toBe(422);
  });

  it('refuses a chunked body once it passes the limit, without waiting for its end', async () => {
    // The client would send 64 MiB; the server must answer after about its limit (64 KiB here).
    const url = new URL('/v1/decisions', s.url);
    const chunk = Buffer.alloc(16 << 10, 0x20);
    const { status, sent } = await new Promise<{ status: number; sent: number }>((resolve, reject) => {
      let sent = 0;
      let answered = false;
      const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${s.keys.belastingdienst}`, 'content-type': 'application/json' } }, (res) => {
        answered = true;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, sent }));
      });
      req.on('error', (e) => (answered ? undefined : reject(e)));
      const pump = (): void => {
        while (!answered && sent < 64 << 20) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!answered) req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect(sent).toBeLessThan(16 << 20);
    const refusals = await s.call('GET', '/v1/decisions?kind=refusal&limit=5', { key: s.keys.auditor });
    expect(refusals.body.items.some((e: { status: number }) => e.status === 413)).toBe(true);
  });

  it('holds requestedAt of a decision to the clock window, but not of a simulation', async () => {
    const past = { ...exampleRequest, requestedAt: '2025-03-01T10:00:00Z' };
    const d = await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: past });
    expect(d.status).toBe(422);
    expect(d.body.errors[0].path).toBe('/requestedAt');
    const near = { ...exampleRequest, requestedAt: new Date(Date.now() - 60_000).toISOString() };
    expect((await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: near })).status).toBe(200);
    const sim = await s.call('POST', '/v1/simulations', { key: s.keys['privacy-officer'], body: { ...past, requestedAt: '2024-06-01T00:00:00Z' } });
    expect(sim.status).toBe(200);
    expect(sim.body.reasons.map((r: { code: string }) => r.code)).toContain('covenant-not-in-force');
    const stored = await s.call('GET', `/v1/decisions/${sim.body.decisionId}`, { key: s.keys.auditor });
    expect(stored.body.kind).toBe('simulation');
  });
});

describe('roles', () => {
  const matrix: [string, string, string, number][] = [
    ['POST', '/v1/decisions', 'privacy-officer', 403],
    ['POST', '/v1/decisions', 'auditor', 403],
    ['POST', '/v1/simulations', 'belastingdienst', 403],
    ['POST', '/v1/simulations', 'auditor', 200],
    ['GET', '/v1/decisions', 'belastingdienst', 403],
    ['GET', '/v1/decisions', 'privacy-officer', 403],
    ['GET', '/v1/decisions', 'auditor', 200],
    ['GET', '/v1/audit/verify', 'privacy-officer', 403],
    ['GET', '/v1/audit/verify', 'auditor', 200],
    ['GET', '/v1/policy', 'belastingdienst', 403],
    ['GET', '/v1/policy', 'privacy-officer', 200],
    ['GET', '/v1/policy', 'auditor', 200],
    ['POST', '/v1/policy/validate', 'auditor', 403],
    ['POST', '/v1/policy/validate', 'belastingdienst', 403],
  ];
  it.each(matrix)('%s %s as %s: %i', async (method, path, who, status) => {
    const body = path === '/v1/policy/validate' ? { files: [{ name: 'x.yaml', content: 'rules: []' }] } : method === 'POST' ? exampleRequest : undefined;
    const r = await s.call(method, path, { key: s.keys[who], ...(body && { body }) });
    expect(r.status).toBe(status);
  });

  it('answers 401 without a valid key, and does not record it', async () => {
    const before = await s.call('GET', '/v1/decisions?kind=refusal&limit=1000', { key: s.keys.auditor });
    for (const key of [undefined, 'nonsense', `cov_0000000000000000_${'A'.repeat(43)}`]) {
      const r = await s.call('POST', '/v1/decisions', { ...(key && { key }), body: exampleRequest });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
    }
    const after = await s.call('GET', '/v1/decisions?kind=refusal&limit=1000', { key: s.keys.auditor });
    expect(after.body.items.length).toBe(before.body.items.length);
  });

  it('records refusals of authenticated callers', async () => {
    await s.call('GET', '/v1/policy', { key: s.keys.douane });
    const r = await s.call('GET', '/v1/decisions?kind=refusal&limit=1', { key: s.keys.auditor });
    expect(r.body.items[0]).toMatchObject({ kind: 'refusal', status: 403, route: 'GET /v1/policy', caller: { partner: 'douane' } });
  });

  it('records a refused body as it came, unless it is nested too deeply to write back, then says so', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const r = await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, raw: deep, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    problemShape(r.body);
    const shallow = await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: { nested: [[[{ a: 1 }]]] } });
    expect(shallow.status).toBe(400);
    const log = await s.call('GET', '/v1/decisions?kind=refusal&limit=2', { key: s.keys.auditor });
    expect(log.body.items.map((e: { request: unknown }) => e.request)).toEqual([{ nested: [[[{ a: 1 }]]] }, '(not recorded: nested more than 64 levels deep)']);
    expect((await s.call('GET', '/readyz')).status).toBe(200);
  });

  it('honours a revocation within 5 seconds', async () => {
    const store = await KeyStore.open(dataPaths(s.dataDir).keys);
    const { key, record } = await store.add({ role: 'auditor' }, new Date());
    await new Promise((r) => setTimeout(r, 1500));
    expect((await s.call('GET', '/v1/policy', { key })).status).toBe(200);
    await store.revoke(record.id, new Date());
    const deadline = Date.now() + 5000;
    let status = 200;
    while (Date.now() < deadline && status !== 401) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await s.call('GET', '/v1/policy', { key })).status;
    }
    expect(status).toBe(401);
  });
});

describe('the log, read back', () => {
  it('lists newest first with filters and a cursor', async () => {
    for (let i = 0; i < 5; i++) await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: { ...exampleRequest, recipient: 'om' } });
    const first = await s.call('GET', '/v1/decisions?recipient=om&limit=2', { key: s.keys.auditor });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.items[0].seq).toBeGreaterThan(first.body.items[1].seq);
    const second = await s.call('GET', `/v1/decisions?recipient=om&limit=2&cursor=${first.body.nextCursor}`, { key: s.keys.auditor });
    expect(second.body.items[0].seq).toBeLessThan(first.body.items[1].seq);
    expect(second.body.items.every((e: { kind: string; request: { recipient: string } }) => e.kind === 'decision' && e.request.recipient === 'om')).toBe(true);
    const denies = await s.call('GET', '/v1/decisions?decision=deny', { key: s.keys.auditor });
    expect(denies.body.items.length).toBeGreaterThan(0);
    expect(denies.body.items.every((e: { decision: { decision: string } }) => e.decision.decision === 'deny')).toBe(true);
  });

  it('filters by category (and those under it), legal basis, rule, case reference and caller key', async () => {
    const cased = await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: { ...exampleRequest, caseReference: 'FILTER-1' } });
    await s.call('POST', '/v1/decisions', { key: s.keys.douane, body: exampleRequest });
    const ids = async (q: string): Promise<string[]> => (await s.call('GET', `/v1/decisions?${q}&limit=1000`, { key: s.keys.auditor })).body.items.map((e: { id: string }) => e.id);
    expect(await ids('caseReference=FILTER-1')).toEqual([cased.body.decisionId]);
    const byParent = await ids('category=fiscal');
    expect(byParent).toContain(cased.body.decisionId);
    expect(await ids('category=fiscal.income')).toEqual(byParent);
    expect(await ids('category=police')).not.toContain(cased.body.decisionId);
    expect(await ids('legalBasis=awr-67-43c')).toContain(cased.body.decisionId);
    expect(await ids('legalBasis=wpg-19')).not.toContain(cased.body.decisionId);
    expect(await ids('rule=art-4-1-fiscal-to-fiod')).toContain(cased.body.decisionId);
    const entry = (await s.call('GET', `/v1/decisions/${cased.body.decisionId}`, { key: s.keys.auditor })).body;
    const byKey = await ids(`callerKey=${entry.caller.keyId}`);
    expect(byKey).toContain(cased.body.decisionId);
    const others = (await s.call('GET', `/v1/decisions?callerKey=${entry.caller.keyId}&limit=1000`, { key: s.keys.auditor })).body.items;
    expect(others.every((e: { caller: { keyId: string } }) => e.caller.keyId === entry.caller.keyId)).toBe(true);
  });

  it('rejects bad filters with 400 and an unknown id with 404', async () => {
    const said: Record<string, string> = {
      'kind=everything': 'must be one of',
      'limit=0': 'must be a whole number from 1 to 1000',
      'limit=5000': 'must be a whole number from 1 to 1000',
      'from=yesterday': 'must be an RFC 3339 date-time',
      'cursor=abc': 'must be the `nextCursor` of a previous page',
      'surplus=1': 'unknown field `surplus`',
    };
    for (const [q, message] of Object.entries(said)) {
      const r = await s.call('GET', `/v1/decisions?${q}`, { key: s.keys.auditor });
      expect(r.status, q).toBe(400);
      problemShape(r.body);
      expect(r.body.errors[0].message, q).toContain(message);
    }
    const bad = await s.call('GET', '/v1/decisions/not-an-id', { key: s.keys.auditor });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ path: '/id', message: expect.stringContaining('must be a decision id') }]);
    expect((await s.call('GET', '/v1/decisions/01JD0000000000000000000000', { key: s.keys.auditor })).status).toBe(404);
  });

  it('verifies intact', async () => {
    const r = await s.call('GET', '/v1/audit/verify', { key: s.keys.auditor });
    expect(r.body).toMatchObject({ ok: true, entries: expect.any(Number), head: { seq: expect.any(Number) } });
  });
});

describe('routes and plumbing', () => {
  it('answers unknown routes 404 and wrong methods 405, as problems', async () => {
    const a = await s.call('GET', '/v2/nothing', { key: s.keys.auditor });
    expect(a.status).toBe(404);
    problemShape(a.body);
    const b = await s.call('DELETE', '/v1/decisions', { key: s.keys.auditor });
    expect(b.status).toBe(405);
    expect(b.headers.get('allow')).toBe('GET, POST');
  });

  it('logs each request once by its route, status and key id, never with the key or the body', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>), done()) });
    const t = await testServer({ logger: pino({ level: 'debug' }, sink) });
    try {
      const secret = 'a case note that must stay out of the logs';
      const asked = [
        await t.call('POST', '/v1/decisions', { key: t.keys.belastingdienst, body: { ...exampleRequest, caseReference: secret } }),
        await t.call('POST', '/v1/decisions', { key: t.keys.auditor, body: exampleRequest }),
        await t.call('POST', '/v1/decisions', { key: `${t.keys.fiod}x`, body: exampleRequest }),
        await t.call('GET', '/v1/nothing'),
        await t.call('GET', '/v1/nothing', { key: t.keys.auditor }),
        await t.call('DELETE', '/healthz'),
        await t.call('GET', '/healthz'),
      ];
      expect(asked.map((a) => a.status)).toEqual([200, 403, 401, 401, 404, 405, 200]);
      const requests = lines.filter((l) => l.msg === 'request').map(({ method, path, status, role }) => ({ method, path, status, role }));
      expect(requests).toEqual([
        { method: 'POST', path: '/v1/decisions', status: 200, role: 'partner' },
        { method: 'POST', path: '/v1/decisions', status: 403, role: 'auditor' },
        { method: 'POST', path: '/v1/decisions', status: 401, role: undefined },
        { method: 'GET', path: '(no route)', status: 401, role: undefined },
        { method: 'GET', path: '(no route)', status: 404, role: 'auditor' },
        { method: 'DELETE', path: '(no route)', status: 405, role: undefined },
        { method: 'GET', path: '/healthz', status: 200, role: undefined },
      ]);
      // a refused request names the client's address; a routine one does not need to
      const clients = lines.filter((l) => l.msg === 'request').map((l) => l.client);
      expect(clients).toEqual([undefined, '127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', undefined]);
      const all = JSON.stringify(lines);
      for (const key of Object.values(t.keys)) expect(all).not.toContain(key.slice('cov_0123456789abcdef_'.length));
      expect(all).not.toContain(secret);
    } finally {
      await t.server.close();
    }
  });

  it('answers what the HTTP parser refuses as a problem too: oversized headers 431, malformed HTTP 400', async () => {
    const { port } = new URL(s.url);
    const raw = (text: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.end(text));
        let got = '';
        socket.on('data', (d) => (got += d));
        socket.on('end', () => resolve(got));
        socket.on('error', reject);
      });
    const answers = [
      await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
      await raw('GARBAGE\r\n\r\n'),
      await raw('POST /v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}'),
    ];
    expect(answers.map((a) => a.split('\r\n')[0])).toEqual(['HTTP/1.1 431 Request Header Fields Too Large', 'HTTP/1.1 400 Bad Request', 'HTTP/1.1 400 Bad Request']);
    for (const a of answers) {
      const [head, body] = a.split('\r\n\r\n') as [string, string];
      expect(head).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i);
      expect(head).toMatch(new RegExp(`\\r\\ncontent-length: ${Buffer.byteLength(body)}(\\r\\n|$)`, 'i'));
      problemShape(JSON.parse(body));
    }
    expect((await s.call('GET', '/healthz')).status).toBe(200);
  });

  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    expect((await s.call('GET', '/healthz')).status).toBe(200);
    expect((await s.call('GET', '/readyz')).body).toMatchObject({ status: 'ready' });
    const m = await s.call('GET', '/metrics');
    expect(m.body).toMatch(/covenant_decisions_total\{kind="decision",outcome="permit"\} \d+/);
    expect(m.body).toMatch(/covenant_log_append_seconds_count [1-9]/);
    expect(m.body).toMatch(/covenant_decision_seconds_bucket/);
    const o = await s.call('GET', '/openapi.json');
    expect(o.body.openapi).toBe('3.1.0');
    expect(Object.keys(o.body.paths)).toEqual(expect.arrayContaining(['/v1/decisions', '/v1/decisions/{id}', '/v1/simulations', '/v1/audit/verify', '/v1/policy', '/v1/policy/validate']));
  });

  it('describes the loaded policy and validates posted files without loading them', async () => {
    const p = await s.call('GET', '/v1/policy', { key: s.keys['privacy-officer'] });
    expect(p.body).toMatchObject({ policyVersion: expect.stringMatching(/^sha256:/), counts: { partners: 7 }, errors: [] });
    expect(p.body.files).toContain('rules/fiscal.yaml');
    const bad = await s.call('POST', '/v1/policy/validate', {
      key: s.keys['privacy-officer'],
      body: { files: [{ name: 'policies/p.yaml', content: 'covenant: { id: x }\npartners: [{ id: a }]' }, { name: 'rules/r.yaml', content: 'rules:\n  - { id: r, citation: c, effect: permit, providers: [b] }' }] },
    });
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ valid: false, errors: 1, diagnostics: [{ code: 'unknown-reference', file: 'rules/r.yaml', line: 2 }] });
    const after = await s.call('GET', '/v1/policy', { key: s.keys['privacy-officer'] });
    expect(after.body.policyVersion).toBe(p.body.policyVersion);
  });
});

describe('reviewing posted rule files', () => {
  it('goes on deciding while a large covenant is validated or its impact worked out, and answers as before', async () => {
    const rules = Array.from({ length: 3000 }, (_, i) => ({
      id: `generated-${i}`,
      citation: `Art. ${i}`,
      effect: 'permit',
      providers: ['belastingdienst'],
      recipients: ['fiod'],
      categories: ['fiscal.income'],
      purposes: ['nsoc.tbml'],
      legalBases: ['awr-67-43c'],
    }));
    const policies = readdirSync(join(ROOT, 'policies')).map((f) => ({ name: `policies/${f}`, content: readFileSync(join(ROOT, 'policies', f), 'utf8') }));
    const files = [...policies, { name: 'rules/generated.json', content: JSON.stringify({ apiVersion: 'covenant/v1', rules }) }];
    for (const route of ['/v1/policy/validate', '/v1/policy/impact']) {
      let answered = false;
      const review = s.call('POST', route, { key: s.keys['privacy-officer'], body: { files } }).finally(() => (answered = true));
      // Decisions asked one after another meanwhile: on the service's own thread, compiling
      // 3,000 rules would hold every one of them up until it was done.
      let during = 0;
      while (!answered) {
        expect((await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: exampleRequest })).status).toBe(200);
        if (!answered) during++;
      }
      const r = await review;
      expect(r.status, route).toBe(200);
      expect(r.body, route).toMatchObject(route.endsWith('validate') ? { valid: true, errors: 0 } : { evaluated: expect.any(Number), flips: expect.any(Array) });
      expect(during, route).toBeGreaterThan(20);
    }
  });
});

describe('reloading the rule files', () => {
  it('swaps in a valid change and keeps serving the last valid version on an invalid one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'covenant-rules-'));
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    cpSync(join(ROOT, 'rules'), join(dir, 'rules'), { recursive: true });
    const t = await testServer({ policies: join(dir, 'policies'), rules: join(dir, 'rules') });
    try {
      const v1 = (await t.call('GET', '/v1/policy', { key: t.keys.auditor })).body.policyVersion;
      writeFileSync(join(dir, 'rules', 'extra.yaml'), 'rules:\n  - { id: extra-deny, citation: "Art. 99", effect: deny, categories: [fiscal.income] }\n');
      const v2 = await waitFor(async () => {
        const b = (await t.call('GET', '/v1/policy', { key: t.keys.auditor })).body;
        return b.policyVersion !== v1 ? b.policyVersion : undefined;
      });
      const d = await t.call('POST', '/v1/decisions', { key: t.keys.belastingdienst, body: exampleRequest });
      expect(d.body).toMatchObject({ decision: 'deny', policyVersion: v2 });
      writeFileSync(join(dir, 'rules', 'extra.yaml'), 'rules:\n  - { id: extra-deny, citation: "Art. 99", effect: forbid }\n');
      const errors = await waitFor(async () => {
        const b = (await t.call('GET', '/v1/policy', { key: t.keys.auditor })).body;
        return b.errors.length > 0 ? b : undefined;
      });
      expect(errors.policyVersion).toBe(v2);
      expect(errors.errors[0]).toMatchObject({ file: 'rules/extra.yaml', line: 2, code: 'schema' });
      expect((await t.call('POST', '/v1/decisions', { key: t.keys.belastingdienst, body: exampleRequest })).body.policyVersion).toBe(v2);
    } finally {
      await t.server.close();
    }
  });
});

describe('who asks within a partner', () => {
  it('decides by the unit and function of the caller key, records them, and replays as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'covenant-units-'));
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    cpSync(join(ROOT, 'rules'), join(dir, 'rules'), { recursive: true });
    writeFileSync(
      join(dir, 'rules', 'screened.yaml'),
      'rules:\n  - { id: screened-only, citation: "Art. 99", effect: deny, categories: [fiscal.income], when: { all: [ { fact: function, operator: notEqual, value: screened } ] } }\n',
    );
    const dataDir = join(dir, 'data');
    const store = await KeyStore.open(dataPaths(dataDir).keys);
    const screened = (await store.add({ role: 'partner', partner: 'belastingdienst', unit: 'regio-noord', function: 'screened' }, new Date())).key;
    const t = await testServer({ policies: join(dir, 'policies'), rules: join(dir, 'rules'), dataDir });
    try {
      const asScreened = await t.call('POST', '/v1/decisions', { key: screened, body: exampleRequest });
      const asAnyone = await t.call('POST', '/v1/decisions', { key: t.keys.belastingdienst, body: exampleRequest });
      expect(asScreened.body.decision).toBe('permit');
      expect(asAnyone.body).toMatchObject({ decision: 'deny', reasons: [expect.objectContaining({ code: 'denied-by-rule', rule: 'screened-only' })] });
      const entry = await t.call('GET', `/v1/decisions/${asScreened.body.decisionId}`, { key: t.keys.auditor });
      expect(entry.body.caller).toMatchObject({ role: 'partner', partner: 'belastingdienst', unit: 'regio-noord', function: 'screened' });
      for (const d of [asScreened, asAnyone]) {
        const replay = await t.call('GET', `/v1/decisions/${d.body.decisionId}/replay`, { key: t.keys.auditor });
        expect(replay.body, d.body.decision).toMatchObject({ reproduced: true, changed: false });
      }
    } finally {
      await t.server.close();
    }
  });
});

describe('onward provision', () => {
  it('looks up the decisions a request names in derivedFrom, decides by where the data came from, records it and replays as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'covenant-onward-'));
    const policies = {
      covenant: { id: 'o', title: 'Onward', validFrom: '2020-01-01', validUntil: '2030-12-31' },
      partners: [{ id: 'belastingdienst' }, { id: 'fiod' }, { id: 'douane' }],
      dataCategories: [{ id: 'fiscal' }],
      purposes: [{ id: 'p' }],
      legalBases: [{ id: 'lb', citation: 'Wet X', providers: ['belastingdienst', 'fiod', 'douane'], categories: ['fiscal'] }],
    };
    const rules = [
      { id: 'share', citation: 'Art. 1', effect: 'permit', recipients: ['fiod', 'douane'] },
      { id: 'no-onward', citation: 'Art. 2', effect: 'deny', when: { all: [{ fact: 'origin', path: '$.providers', operator: 'contains', value: 'belastingdienst' }] } },
    ];
    const folders = { policies: join(dir, 'policies'), rules: join(dir, 'rules') };
    for (const f of Object.values(folders)) mkdirSync(f);
    writeFileSync(join(folders.policies, 'p.json'), JSON.stringify(policies));
    writeFileSync(join(folders.rules, 'r.json'), JSON.stringify({ rules }));
    const t = await testServer(folders);
    const ask = (key: string, provider: string, recipient: string, derivedFrom?: string[]) =>
      t.call('POST', '/v1/decisions', { key, body: { provider, recipient, dataCategories: ['fiscal'], purpose: 'p', legalBasis: 'lb', ...(derivedFrom && { derivedFrom }) } });
    try {
      const first = await ask(t.keys.belastingdienst!, 'belastingdienst', 'fiod');
      expect(first.body.decision).toBe('permit');
      const onward = await ask(t.keys.fiod!, 'fiod', 'douane', [first.body.decisionId]);
      expect(onward.body).toMatchObject({ decision: 'deny', reasons: [expect.objectContaining({ code: 'denied-by-rule', rule: 'no-onward' })] });
      expect((await ask(t.keys.fiod!, 'fiod', 'douane')).body.decision).toBe('permit');
      const entry = await t.call('GET', `/v1/decisions/${onward.body.decisionId}`, { key: t.keys.auditor });
      expect(entry.body.origin).toEqual({ decisions: [first.body.decisionId], providers: ['belastingdienst'], categories: ['fiscal'], purposes: ['p'], legalBases: ['lb'] });
      expect((await t.call('GET', `/v1/decisions/${onward.body.decisionId}/replay`, { key: t.keys.auditor })).body).toMatchObject({ reproduced: true, changed: false });
      // only a permitted decision whose recipient is this provider counts; anything else is refused
      const denied = await ask(t.keys.fiod!, 'fiod', 'belastingdienst');
      expect(denied.body.decision).toBe('deny');
      const refusals: [string, string, string, string[], number, string][] = [
        [t.keys.douane!, 'douane', 'fiod', [first.body.decisionId], 422, `decision \`${first.body.decisionId}\` gave its data to \`fiod\`, not to the provider \`douane\``],
        [t.keys.fiod!, 'fiod', 'douane', ['01ARZ3NDEKTSV4RRFFQ69G5FAV'], 422, 'no decision `01ARZ3NDEKTSV4RRFFQ69G5FAV` is recorded'],
        [t.keys.belastingdienst!, 'belastingdienst', 'douane', [denied.body.decisionId], 422, `decision \`${denied.body.decisionId}\` was a deny: no data came of it`],
      ];
      for (const [key, provider, recipient, from, status, message] of refusals) {
        const r = await ask(key, provider, recipient, from);
        expect(r.status).toBe(status);
        expect(r.body).toMatchObject({ title: 'derivedFrom names no data the provider received', errors: [{ path: '/derivedFrom/0', message }] });
      }
      expect((await ask(t.keys.fiod!, 'fiod', 'douane', ['not-an-id'])).status).toBe(400);
    } finally {
      await t.server.close();
    }
  });
});
