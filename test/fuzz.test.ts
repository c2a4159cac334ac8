// 10,000 malformed or hostile bodies against POST /v1/decisions: never a 5xx, never a permit.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRequest, testServer, type TestServer } from './server-helpers.js';

let s: TestServer;
beforeAll(async () => {
  // the parser is under test here, not the limit on refusals (test/hostile.test.ts)
  s = await testServer({ throttle: { refusalsPerSecond: 0, requestsPerSecond: 0 } });
});
afterAll(async () => {
  await s.server.close();
});

const hostileString = fc.oneof(
  fc.string(),
  fc.constantFrom('__proto__', 'constructor', 'prototype', '', ' ', '../../etc/passwd', '$.x', '{"fact":"x"}', 'fiscal..income', 'fiscal.', '\u0000', 'ｆｉｓｃａｌ', 'x'.repeat(300)),
);

// A valid request with at least one thing wrong with it, so that no answer may be a permit.
const corrupted = fc.oneof(
  fc.record({ field: fc.constantFrom('provider', 'recipient', 'purpose', 'legalBasis', 'dataCategories'), value: fc.oneof(hostileString, fc.anything()) }).map(({ field, value }) => ({ ...exampleRequest, [field]: field === 'dataCategories' && typeof value === 'string' ? [value] : value })),
  fc.constantFrom('provider', 'recipient', 'dataCategories', 'purpose', 'legalBasis').map((field) => {
    const r: Record<string, unknown> = { ...exampleRequest };
    delete r[field];
    return r;
  }),
  fc.record({ key: hostileString.filter((k) => !['provider', 'recipient', 'dataCategories', 'purpose', 'legalBasis', 'subjectCount', 'pseudonymised', 'caseReference', 'requestedAt', 'context'].includes(k)), value: fc.anything().filter((v) => v !== undefined) }).map(({ key, value }) => ({ ...JSON.parse(JSON.stringify(exampleRequest)), [key]: value })),
  fc.record({ subjectCount: fc.oneof(fc.double(), fc.integer({ max: -1 }), fc.string(), fc.constant(null)) }).filter((x) => !(Number.isInteger(x.subjectCount) && (x.subjectCount as number) >= 0)).map((x) => ({ ...exampleRequest, ...x })),
  fc.record({ requestedAt: fc.oneof(fc.string(), fc.constantFrom('2025-02-30T10:00:00Z', '2025-03-01', '2025-03-01T25:00:00Z', 'now')) }).map((x) => ({ ...exampleRequest, ...x })),
  fc.record({ context: fc.oneof(fc.array(fc.anything()), fc.dictionary(fc.string(), fc.oneof(fc.object(), fc.array(fc.integer())), { minKeys: 1 })) }).map((x) => ({ ...exampleRequest, ...x })),
  fc.record({ dataCategories: fc.oneof(fc.constant([]), fc.constant(['fiscal.income', 'fiscal.income']), fc.array(hostileString, { minLength: 101, maxLength: 120 })) }).map((x) => ({ ...exampleRequest, ...x })),
  fc.anything().filter((x) => typeof x !== 'object' || x === null || Array.isArray(x)),
);

const raw = fc.oneof(
  corrupted.map((x) => JSON.stringify(x) ?? 'null'),
  fc.string(),
  fc.constantFrom('{', '[', '{"provider":', 'null', '{"__proto__": {"admin": true}}', '\uFEFF{}', '{"a":' + '['.repeat(5000)),
  // valid JSON nested deeper than anything can be written back with JSON.stringify
  fc.integer({ min: 60, max: 20_000 }).chain((n) =>
    fc.constantFrom('['.repeat(n) + ']'.repeat(n), '{"a":'.repeat(n) + '1' + '}'.repeat(n), JSON.stringify(exampleRequest).slice(0, -1) + ',"context":' + '['.repeat(n) + ']'.repeat(n) + '}'),
  ),
);

describe('POST /v1/decisions under hostile input', () => {
  it('never answers 5xx and never permits', async () => {
    const bodies = fc.sample(raw, { numRuns: 10_000, seed: 20261122 });
    const statuses = new Map<number, number>();
    for (let i = 0; i < bodies.length; i += 50) {
      const results = await Promise.all(
        bodies.slice(i, i + 50).map(async (body) => {
          const r = await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, raw: body, headers: { 'content-type': 'application/json' } });
          return { body, r };
        }),
      );
      for (const { body, r } of results) {
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        expect(r.status, body.slice(0, 200)).toBeLessThan(500);
        expect(r.status, body.slice(0, 200)).not.toBe(200);
        expect(JSON.stringify(r.body)).not.toMatch(/node_modules|at [A-Za-z.]+ \(|\/work\//);
      }
    }
    expect([...statuses.keys()].every((st) => [400, 403, 413, 422].includes(st))).toBe(true);
    const health = await s.call('GET', '/v1/audit/verify', { key: s.keys.auditor });
    expect(health.body.ok).toBe(true);
  });
});
