// The steps of CONTRACT 2.2 and the shape of 2.3, one behaviour at a time.
import { describe, expect, it } from 'vitest';
import { decide } from '../src/engine/index.js';
import type { Decision } from '../src/domain/types.js';
import { basePolicies, baseRequest, doc, mustCompile } from './helpers.js';

const NOW = Date.parse('2025-03-01T10:00:00Z');

function run(rules: unknown[], request: Record<string, unknown> = baseRequest, policies: Record<string, unknown> = basePolicies): Decision {
  const covenant = mustCompile(doc('policies/p.json', policies), doc('rules/r.json', { rules }));
  const result = decide(covenant, request, { now: NOW, decisionId: 'd1' });
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

function fault(request: unknown): { kind: string; errors: readonly { path: string }[] } {
  const covenant = mustCompile(doc('policies/p.json', basePolicies), doc('rules/r.json', { rules: [] }));
  const result = decide(covenant, request, { now: NOW, decisionId: 'd1' });
  if (result.ok) throw new Error('expected a fault');
  return result.error;
}

const permit = (extra: Record<string, unknown> = {}) => ({ id: 'p1', citation: 'Art. 1', effect: 'permit', ...extra });
const deny = (extra: Record<string, unknown> = {}) => ({ id: 'd1', citation: 'Art. 9', effect: 'deny', ...extra });

describe('request faults (2.2 step 1)', () => {
  it('answers a schema violation as malformed', () => {
    expect(fault({ ...baseRequest, dataCategories: [] }).kind).toBe('malformed');
    expect(fault({ ...baseRequest, extra: 1 }).kind).toBe('malformed');
    expect(fault({ ...baseRequest, subjectCount: -1 }).kind).toBe('malformed');
    expect(fault({ ...baseRequest, subjectCount: 1.5 }).kind).toBe('malformed');
    expect(fault({ ...baseRequest, dataCategories: ['fiscal', 'fiscal'] }).kind).toBe('malformed');
    expect(fault({ ...baseRequest, requestedAt: '2025-03-01' }).kind).toBe('malformed');
    expect(fault({ ...baseRequest, requestedAt: '2025-02-30T10:00:00Z' }).kind).toBe('malformed');
    expect(fault({ ...baseRequest, context: { nested: { no: 1 } } }).kind).toBe('malformed');
    expect(fault([]).kind).toBe('malformed');
    expect(fault(null).kind).toBe('malformed');
  });

  it('answers unknown ids and provider = recipient as unprocessable, naming each', () => {
    const f = fault({ ...baseRequest, provider: 'zz', dataCategories: ['fiscal', 'nope'], legalBasis: 'lb2' });
    expect(f.kind).toBe('unprocessable');
    expect(f.errors.map((e) => e.path)).toEqual(['/provider', '/dataCategories/1', '/legalBasis']);
    expect(fault({ ...baseRequest, recipient: 'a' }).kind).toBe('unprocessable');
  });

  it('prefers malformed when a request has both kinds of fault', () => {
    expect(fault({ ...baseRequest, provider: 'zz', subjectCount: 'many' }).kind).toBe('malformed');
  });

  it('accepts a requestedAt with an offset and compares it in UTC', () => {
    const d = run([permit({ validUntil: '2025-03-01T09:00:00Z' })], { ...baseRequest, requestedAt: '2025-03-01T10:30:00+02:00' });
    expect(d.decision).toBe('permit');
  });
});

describe('request-level checks (2.2 step 2)', () => {
  it('reports every failure once, in contract order, and denies every category with the first', () => {
    const policies = {
      ...basePolicies,
      legalBases: [{ id: 'lb', citation: 'X', providers: ['b'], categories: ['fiscal'], purposes: ['other'], validUntil: '2024-12-31' }],
    };
    const d = run([permit()], { ...baseRequest, dataCategories: ['fiscal.income', 'police'], requestedAt: '2026-01-01T00:00:00Z' }, policies);
    expect(d.decision).toBe('deny');
    expect(d.reasons.map((r) => r.code)).toEqual([
      'covenant-not-in-force',
      'legal-basis-not-in-force',
      'legal-basis-not-available-to-provider',
      'legal-basis-does-not-cover-purpose',
    ]);
    expect(d.reasons.every((r) => !('category' in r))).toBe(true);
    expect(d.categories).toEqual([
      { category: 'fiscal.income', decision: 'deny', rules: [], reason: 'covenant-not-in-force' },
      { category: 'police', decision: 'deny', rules: [], reason: 'covenant-not-in-force' },
    ]);
  });

  it('treats a date bound as the whole UTC day, on both ends', () => {
    const at = (t: string) => run([permit()], { ...baseRequest, requestedAt: t }).decision;
    expect(at('2025-12-31T23:59:59.999Z')).toBe('permit');
    expect(at('2026-01-01T00:00:00Z')).toBe('deny');
    expect(at('2025-01-01T00:00:00Z')).toBe('permit');
    expect(at('2024-12-31T23:59:59.999Z')).toBe('deny');
    expect(at('2025-12-31T23:30:00-01:00')).toBe('deny');
  });

  it('uses now when requestedAt is absent', () => {
    const { requestedAt: _, ...request } = baseRequest;
    expect(run([permit()], request).decision).toBe('permit');
  });
});

describe('categories and rules (2.2 steps 3 to 5)', () => {
  it('denies a category the legal basis does not cover, and only that one', () => {
    const policies = { ...basePolicies, legalBases: [{ id: 'lb', citation: 'X', providers: ['a'], categories: ['fiscal.income'] }] };
    const d = run([permit()], { ...baseRequest, dataCategories: ['fiscal.income.wage', 'fiscal', 'police'] }, policies);
    expect(d.categories.map((c) => [c.category, c.decision, c.decision === 'deny' ? c.reason : c.rules])).toEqual([
      ['fiscal.income.wage', 'permit', ['p1']],
      ['fiscal', 'deny', 'legal-basis-does-not-cover-category'],
      ['police', 'deny', 'legal-basis-does-not-cover-category'],
    ]);
    expect(d.reasons.map((r) => r.code)).toEqual([
      'permitted-by-rule',
      'legal-basis-does-not-cover-category',
      'legal-basis-does-not-cover-category',
    ]);
  });

  it('denies by default', () => {
    const d = run([]);
    expect(d.categories[0]).toEqual({ category: 'fiscal.income', decision: 'deny', rules: [], reason: 'no-permitting-rule' });
  });

  it('lets a deny override every permit and lists every deny rule that applied', () => {
    const d = run([permit(), deny(), deny({ id: 'd2', citation: 'Art. 10', categories: ['fiscal'] }), permit({ id: 'p2' })]);
    expect(d.categories[0]).toEqual({ category: 'fiscal.income', decision: 'deny', rules: ['d1', 'd2'], reason: 'denied-by-rule' });
    expect(d.reasons.map((r) => ('rule' in r ? r.rule : r.code))).toEqual(['d1', 'd2']);
    expect(d.obligations).toEqual([]);
  });

  it('matches purpose and category by descent, never by ascent', () => {
    expect(run([permit({ categories: ['fiscal'], purposes: ['nsoc'] })]).decision).toBe('permit');
    expect(run([permit({ categories: ['fiscal.income.wage'] })]).decision).toBe('deny');
    expect(run([permit({ purposes: ['nsoc.tbml'] })], { ...baseRequest, purpose: 'nsoc' }).decision).toBe('deny');
    expect(run([permit({ categories: ['fiscal.income'] })], { ...baseRequest, dataCategories: ['fiscal'] }).decision).toBe('deny');
  });

  it('matches provider, recipient and legal basis by equality', () => {
    expect(run([permit({ providers: ['b'] })]).decision).toBe('deny');
    expect(run([permit({ recipients: ['a'] })]).decision).toBe('deny');
    expect(run([permit({ providers: ['a'], recipients: ['b'], legalBases: ['lb'] })]).decision).toBe('permit');
  });

  it("respects a rule's validity window", () => {
    expect(run([permit({ validFrom: '2025-03-02' })]).decision).toBe('deny');
    expect(run([permit({ validUntil: '2025-03-01' })]).decision).toBe('permit');
    expect(run([permit({ validUntil: '2025-03-01T09:59:59Z' })]).decision).toBe('deny');
  });

  it('evaluates `when` over the request, absent fields as null and pseudonymised as false', () => {
    const atMost = (n: number) => permit({ when: { all: [{ fact: 'subjectCount', operator: 'lessThanInclusive', value: n }] } });
    expect(run([atMost(10)], { ...baseRequest, subjectCount: 10 }).decision).toBe('permit');
    expect(run([atMost(10)], { ...baseRequest, subjectCount: 11 }).decision).toBe('deny');
    expect(run([atMost(10)]).decision).toBe('deny');
    const isNull = (fact: string, path?: string) => permit({ when: { all: [{ fact, ...(path && { path }), operator: 'equal', value: null }] } });
    expect(run([isNull('caseReference')]).decision).toBe('permit');
    expect(run([isNull('context', '$.dpiaReference')]).decision).toBe('permit');
    expect(run([isNull('context', '$.dpiaReference')], { ...baseRequest, context: { dpiaReference: 'D-1' } }).decision).toBe('deny');
    const notPseudonymised = permit({ when: { all: [{ fact: 'pseudonymised', operator: 'equal', value: false }] } });
    expect(run([notPseudonymised]).decision).toBe('permit');
  });

  it('counts a `when` that cannot be evaluated as holding for deny and not for permit', () => {
    // `in` against a number throws inside the operator: the condition cannot be evaluated.
    const broken = { all: [{ fact: 'purpose', operator: 'in', value: { fact: 'subjectCount' } }] };
    const request = { ...baseRequest, subjectCount: 3 };
    expect(run([permit({ when: broken })], request).decision).toBe('deny');
    expect(run([permit(), deny({ when: broken })], request).categories[0]).toMatchObject({ reason: 'denied-by-rule', rules: ['d1'] });
  });
});

describe('the decision (2.2 step 6 and 2.3)', () => {
  it('permits only when every category is permitted, in request order', () => {
    const d = run([permit({ categories: ['fiscal'] })], { ...baseRequest, dataCategories: ['police', 'fiscal.income'] });
    expect(d.decision).toBe('deny');
    expect(d.categories.map((c) => c.category)).toEqual(['police', 'fiscal.income']);
  });

  it('merges obligations: equal ones once, retention to the fewest days', () => {
    const d = run(
      [
        permit({ obligations: [{ type: 'retention', days: 180 }, { type: 'notify', role: 'privacy-officer' }] }),
        permit({ id: 'p2', obligations: [{ type: 'pseudonymise' }, { type: 'retention', days: 30 }, { type: 'notify', role: 'privacy-officer' }] }),
        permit({ id: 'p3', categories: ['police'], obligations: [{ type: 'retention', days: 90 }, { type: 'notify', role: 'dpo' }] }),
      ],
      { ...baseRequest, dataCategories: ['fiscal.income', 'police'] },
    );
    expect(d.decision).toBe('permit');
    expect(d.obligations).toEqual([
      { type: 'retention', days: 30 },
      { type: 'notify', role: 'privacy-officer' },
      { type: 'pseudonymise' },
      { type: 'notify', role: 'dpo' },
    ]);
  });

  it('cites every permitting rule with its citation and messages in Dutch and English', () => {
    const d = run([permit({ explanation: { nl: 'Omdat.', en: 'Because.' } }), permit({ id: 'p2', citation: 'Art. 2' })]);
    expect(d.reasons).toHaveLength(2);
    expect(d.reasons[0]).toMatchObject({ code: 'permitted-by-rule', rule: 'p1', citation: 'Art. 1', category: 'fiscal.income' });
    expect(d.reasons[1]).toMatchObject({ rule: 'p2', citation: 'Art. 2' });
    for (const r of d.reasons) {
      expect(r.message.nl.length).toBeGreaterThan(10);
      expect(r.message.en.length).toBeGreaterThan(10);
      expect(r.message.nl).not.toBe(r.message.en);
    }
    expect(d).toMatchObject({ decisionId: 'd1', evaluatedAt: '2025-03-01T10:00:00.000Z' });
    expect(d.policyVersion).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('names the near misses of a denied category with the actual values', () => {
    const d = run(
      [
        permit({ purposes: ['other'] }),
        permit({ id: 'p2', citation: 'Art. 5 lid 1', when: { all: [{ fact: 'subjectCount', operator: 'lessThanInclusive', value: 100 }] } }),
      ],
      { ...baseRequest, subjectCount: 250 },
    );
    expect(d.decision).toBe('deny');
    const [first, second] = d.nearMisses;
    expect(first).toMatchObject({ category: 'fiscal.income', rule: 'p1' });
    expect(first?.misses).toEqual([expect.objectContaining({ field: 'purpose', expected: ['other'], actual: 'nsoc.tbml' })]);
    expect(second?.misses).toEqual([expect.objectContaining({ field: 'when.subjectCount', actual: 250 })]);
    expect(second?.misses[0]?.message.en).toBe('subjectCount was 250; the rule allows at most 100');
    expect(d.reasons.map((r) => r.code)).toEqual(['no-permitting-rule']);
  });
});

describe('shared verdicts', () => {
  it('tells apart the same question answered by different rules on one covenant', () => {
    const covenant = mustCompile(
      doc('policies/p.json', basePolicies),
      doc('rules/r.json', {
        rules: [
          permit({ id: 'small', citation: 'Art. 1', obligations: [{ type: 'retention', days: 30 }], when: { all: [{ fact: 'subjectCount', operator: 'lessThanInclusive', value: 10 }] } }),
          permit({ id: 'pseudo', citation: 'Art. 2', obligations: [{ type: 'pseudonymise' }], when: { all: [{ fact: 'pseudonymised', operator: 'equal', value: true }] } }),
        ],
      }),
    );
    const ask = (facts: Record<string, unknown>): Decision => {
      const result = decide(covenant, { ...baseRequest, ...facts }, { now: NOW, decisionId: 'd1' });
      if (!result.ok) throw new Error(JSON.stringify(result.error));
      return result.value;
    };
    for (let round = 0; round < 2; round++) {
      const small = ask({ subjectCount: 5 });
      const pseudo = ask({ subjectCount: 50, pseudonymised: true });
      expect(small.reasons.map((r) => 'rule' in r && r.rule)).toEqual(['small']);
      expect(small.obligations).toEqual([{ type: 'retention', days: 30 }]);
      expect(pseudo.reasons.map((r) => 'rule' in r && r.rule)).toEqual(['pseudo']);
      expect(pseudo.obligations).toEqual([{ type: 'pseudonymise' }]);
      expect(ask({ subjectCount: 50 }).decision).toBe('deny');
    }
  });
});
