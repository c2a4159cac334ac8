// Thousands of decisions in flight at once give the same results as one at a time. The walk is
// synchronous, but the service interleaves decisions with I/O; and the reference path through
// json-rules-engine (one Engine per evaluation) must not lose results either (its issue #303).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide } from '../src/engine/index.js';
import { evaluateWithEngine, compileCondition } from '../src/conditions/index.js';
import { doc, mustCompile } from './helpers.js';
import { CONDITIONS, covenantArb, requestArb } from './arbitraries.js';

const N = 3000;

describe('decisions in flight at once', () => {
  it('equal the decisions made one at a time', async () => {
    const [g] = fc.sample(covenantArb.filter((x) => x.rules.length >= 6), { numRuns: 1, seed: 42 });
    if (!g) throw new Error('no sample');
    const covenant = mustCompile(doc('policies/p.json', g.policies), doc('rules/r.json', { rules: g.rules }));
    const requests = fc.sample(requestArb(g.policies.legalBases.length), { numRuns: N, seed: 7 });
    const now = Date.parse('2025-05-01T00:00:00Z');
    const one = (r: unknown, i: number) => decide(covenant, r, { now, decisionId: `d${i}` });
    const sequential = requests.map(one);
    const concurrent = await Promise.all(
      requests.map(async (r, i) => {
        await new Promise((resolve) => setImmediate(resolve));
        return one(r, i);
      }),
    );
    expect(concurrent).toEqual(sequential);
    expect(new Set(sequential.map((d) => (d.ok ? d.value.decision : 'fault'))).size).toBeGreaterThan(1);
  });

  it('through json-rules-engine itself, equal the results one at a time', async () => {
    const conditions = CONDITIONS.map((c) => compileCondition(c)).map((c) => {
      if (!c.ok) throw new Error('does not compile');
      return c.value;
    });
    const facts = Array.from({ length: N }, (_, i) => ({
      provider: 'a', recipient: 'b', dataCategories: i % 2 ? ['k'] : ['m'], purpose: 'u', legalBasis: 'lb0',
      subjectCount: i % 7 === 0 ? null : i % 60, pseudonymised: i % 3 === 0, caseReference: i % 5 ? null : 'X',
      requestedAt: null, context: i % 4 ? null : { ref: 'x' },
    }));
    const jobs = facts.map((f, i) => [conditions[i % conditions.length], f] as const);
    const sequential = [];
    for (const [c, f] of jobs) sequential.push(await evaluateWithEngine(c!, f));
    const concurrent = await Promise.all(jobs.map(([c, f]) => evaluateWithEngine(c!, f)));
    expect(concurrent).toEqual(sequential);
  });
});
