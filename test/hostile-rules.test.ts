// Hostile rule files (aliases that loop or multiply, huge values, many keys, odd conditions),
// generated: through validate, and whatever validate accepts through decide, the matrix and the
// posted-file routes. Never a 5xx, never a crash, never a permit the rule does not give.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseText } from '../src/loader/parse.js';
import { compileCovenant, hasErrors } from '../src/compile/index.js';
import { decide } from '../src/engine/index.js';
import { buildMatrix } from '../src/engine/matrix.js';
import { testServer, type TestServer } from './server-helpers.js';

const POLICIES = 'covenant: { id: t, title: T, validFrom: 2025-01-01 }\npartners: [{ id: a }, { id: b }]\ndataCategories: [{ id: fiscal }, { id: fiscal.income }]\npurposes: [{ id: p }]\nlegalBases: [{ id: lb, citation: "Wet X", providers: [a], categories: [fiscal] }]\n';

const rule = (when: string) => `rules:\n  - id: r1\n    citation: "Art. 1"\n    effect: permit\n    when: ${when}\n`;
const doubling = (levels: number) => ['d0: &d0 [1, 2]', ...Array.from({ length: levels }, (_, i) => `d${i + 1}: &d${i + 1} [*d${i}, *d${i}]`)].join('\n');

const hostile = fc.oneof(
  fc.constant(rule('&w { all: [ *w ] }')),
  fc.constant(rule('{ all: [ { fact: subjectCount, operator: in, value: &a [ *a ] } ] }')),
  fc.integer({ min: 1, max: 22 }).map((n) => `x:\n${doubling(n).replace(/^/gm, '  ')}\n${rule(`{ all: [ { fact: subjectCount, operator: in, value: *d${n} } ] }`)}`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `x:\n${Array.from({ length: n }, (_, i) => `  k${i}: ${i}`).join('\n')}\n  k0: again\n${rule('{ all: [] }')}`),
  fc.integer({ min: 1, max: 5_000 }).map((n) => rule(`{ all: [ { fact: subjectCount, operator: in, value: [${Array.from({ length: n }, (_, i) => i).join(', ')}] } ] }`)),
  fc.record({ op: fc.constantFrom('equal', 'in', 'notIn', 'lessThan', 'contains', 'nope'), value: fc.jsonValue(), fact: fc.constantFrom('subjectCount', 'context', 'purpose', 'nope') }).map(
    ({ op, value, fact }) => rule(JSON.stringify({ all: [{ fact, operator: op, value, ...(fact === 'context' && { path: '$.x' }) }] })),
  ),
);

let s: TestServer;
beforeAll(async () => {
  s = await testServer({ throttle: { refusalsPerSecond: 0, requestsPerSecond: 0 } });
});
afterAll(async () => {
  await s.server.close();
});

describe('hostile rule files', () => {
  it('never crash validate, decide, the matrix or the posted-file routes, and never answer 5xx', async () => {
    const samples = fc.sample(hostile, { numRuns: 40, seed: 20261204 });
    for (const text of samples) {
      const parsed = [parseText('policies/p.yaml', POLICIES), parseText('rules/r.yaml', text)];
      const documents = parsed.flatMap((p) => (p.ok ? [p.document] : []));
      const compiled = documents.length === parsed.length ? compileCovenant(documents) : undefined;
      if (compiled?.covenant && !hasErrors(compiled.diagnostics)) {
        for (const subjectCount of [0, 3, 99_999]) {
          const d = decide(compiled.covenant, { provider: 'a', recipient: 'b', dataCategories: ['fiscal.income'], purpose: 'p', legalBasis: 'lb', subjectCount, context: { x: 'y' } }, { now: Date.parse('2025-03-01T10:00:00Z'), decisionId: 'x' });
          expect(d.ok).toBe(true);
          for (const miss of d.ok ? (d.value.nearMisses ?? []).flatMap((n) => n.misses) : []) expect(miss.message.en.length).toBeLessThan(2000);
        }
        const covenant = compiled.covenant;
        expect(() => buildMatrix(covenant, Date.parse('2025-03-01T10:00:00Z'))).not.toThrow();
      }
      const files = [{ name: 'policies/p.yaml', content: POLICIES }, { name: 'rules/r.yaml', content: text }];
      const validated = await s.call('POST', '/v1/policy/validate', { key: s.keys['privacy-officer'], body: { files } });
      expect([text.slice(0, 80), validated.status]).toEqual([text.slice(0, 80), validated.status < 500 ? validated.status : 'a 5xx']);
      const impact = await s.call('POST', '/v1/policy/impact', { key: s.keys.auditor, body: { files } });
      expect(impact.status).toBeLessThan(500);
    }
    // and the service still decides
    expect((await s.call('GET', '/readyz')).status).toBe(200);
  });
});
