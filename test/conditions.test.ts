// The synchronous walk over `when` must agree with json-rules-engine's own Engine.run().
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCondition, evaluateCondition, evaluateWithEngine, explainCondition } from '../src/conditions/index.js';

const leafArb = fc.oneof(
  fc.record({
    fact: fc.constant('subjectCount'),
    operator: fc.constantFrom('lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive', 'equal', 'notEqual'),
    value: fc.oneof(fc.integer({ min: -1, max: 20 }), fc.constant(null)),
  }),
  fc.record({ fact: fc.constant('pseudonymised'), operator: fc.constantFrom('equal', 'notEqual'), value: fc.boolean() }),
  fc.record({ fact: fc.constant('purpose'), operator: fc.constantFrom('in', 'notIn'), value: fc.uniqueArray(fc.constantFrom('u', 'u.a', 'v'), { maxLength: 3 }) }),
  fc.record({ fact: fc.constant('dataCategories'), operator: fc.constantFrom('contains', 'doesNotContain'), value: fc.constantFrom('k', 'm') }),
  fc.record({ fact: fc.constant('context'), path: fc.constantFrom('$.ref', '$.n', '$.missing'), operator: fc.constantFrom('equal', 'notEqual', 'greaterThan'), value: fc.oneof(fc.constant(null), fc.constant('x'), fc.integer({ min: 0, max: 5 })) }),
  fc.record({ fact: fc.constant('caseReference'), operator: fc.constantFrom('equal', 'notEqual'), value: fc.oneof(fc.constant(null), fc.constant('NSOC-1')) }),
  fc.record({ fact: fc.constant('dataCategories'), operator: fc.constantFrom('someFact:equal', 'everyFact:notEqual', 'not:contains'), value: fc.constantFrom('k', 'm') }),
  // a fact reference as the value, including one that makes the operator throw
  fc.record({ fact: fc.constant('subjectCount'), operator: fc.constantFrom('lessThan', 'equal'), value: fc.constant({ fact: 'context', path: '$.n' }) }),
  fc.record({ fact: fc.constant('purpose'), operator: fc.constant('in'), value: fc.constant({ fact: 'subjectCount' }) }),
  // the facts from the caller's key and from the log, beside the request's
  fc.record({ fact: fc.constantFrom('unit', 'function'), operator: fc.constantFrom('equal', 'notEqual'), value: fc.constantFrom(null, 'noord') }),
  fc.record({ fact: fc.constantFrom('unit', 'function'), operator: fc.constantFrom('in', 'notIn'), value: fc.constant(['noord', 'screened']) }),
  fc.record({ fact: fc.constant('origin'), path: fc.constantFrom('$.providers', '$.categories'), operator: fc.constantFrom('contains', 'doesNotContain'), value: fc.constantFrom('fiod', 'k') }),
  fc.record({ fact: fc.constant('derivedFrom'), operator: fc.constantFrom('equal', 'notEqual'), value: fc.constant(null) }),
);

const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.record({ all: fc.array(tie('tree'), { maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('tree'), { maxLength: 3 }) }),
    fc.record({ not: tie('tree') }),
  ),
}));
const topArb = fc.oneof(
  fc.record({ all: fc.array(tree, { maxLength: 4 }) }),
  fc.record({ any: fc.array(tree, { maxLength: 4 }) }),
  fc.record({ not: tree }),
);

const factsArb = fc.record({
  provider: fc.constant('a'),
  recipient: fc.constant('b'),
  dataCategories: fc.uniqueArray(fc.constantFrom('k', 'm', 'k.a'), { minLength: 1, maxLength: 3 }),
  purpose: fc.constantFrom('u', 'u.a', 'v'),
  legalBasis: fc.constant('lb'),
  subjectCount: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 20 })),
  pseudonymised: fc.boolean(),
  caseReference: fc.oneof(fc.constant(null), fc.constant('NSOC-1')),
  requestedAt: fc.constant(null),
  context: fc.oneof(fc.constant(null), fc.record({ ref: fc.constantFrom('x', 'y') }), fc.record({ n: fc.integer({ min: 0, max: 5 }) })),
  derivedFrom: fc.oneof(fc.constant(null), fc.constant(['01ARZ3NDEKTSV4RRFFQ69G5FAV'])),
  unit: fc.oneof(fc.constant(null), fc.constantFrom('noord', 'zuid')),
  function: fc.oneof(fc.constant(null), fc.constant('screened')),
  origin: fc.oneof(fc.constant(null), fc.record({ decisions: fc.constant(['01ARZ3NDEKTSV4RRFFQ69G5FAV']), providers: fc.subarray(['fiod', 'om']), categories: fc.subarray(['k', 'm']), purposes: fc.constant([]), legalBases: fc.constant([]) })),
});

describe('when clauses', () => {
  it('evaluate exactly as json-rules-engine evaluates them', async () => {
    await fc.assert(
      fc.asyncProperty(topArb, factsArb, async (when, facts) => {
        const compiled = compileCondition(when);
        if (!compiled.ok) throw new Error(JSON.stringify(compiled.error));
        expect(evaluateCondition(compiled.value, facts)).toBe(await evaluateWithEngine(compiled.value, facts));
      }),
      { numRuns: 1000 },
    );
  });

  it('explain a failing clause by the leaves that failed, with actual values', () => {
    const compiled = compileCondition({
      all: [
        { fact: 'subjectCount', operator: 'lessThanInclusive', value: 100 },
        { fact: 'pseudonymised', operator: 'equal', value: true },
        { fact: 'caseReference', operator: 'equal', value: null },
      ],
    });
    if (!compiled.ok) throw new Error('does not compile');
    const facts = { subjectCount: 250, pseudonymised: false, caseReference: null };
    expect(evaluateCondition(compiled.value, facts)).toBe('fails');
    expect(explainCondition(compiled.value, facts)).toEqual([
      { fact: 'subjectCount', operator: 'lessThanInclusive', expected: 100, actual: 250, result: false },
      { fact: 'pseudonymised', operator: 'equal', expected: true, actual: false, result: false },
    ]);
  });

  it('reject what json-rules-engine cannot run, with the place of each problem', () => {
    const r = compileCondition({ all: [{ fact: 'nope', operator: 'equal', value: 1 }, { fact: 'subjectCount', operator: 'wat', value: 1 }, { fact: 'purpose', operator: 'in', value: 'u' }, { fact: 'context', path: 'ref', operator: 'equal', value: 1 }, { operator: 'equal' }] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.map((p) => [p.code, p.path.join('.')])).toEqual([
      ['unknown-fact', 'all.0.fact'],
      ['unknown-operator', 'all.1.operator'],
      ['invalid-condition', 'all.2.value'],
      ['invalid-path', 'all.3.path'],
      ['invalid-condition', 'all.4'],
      ['invalid-condition', 'all.4'],
    ]);
  });
});
