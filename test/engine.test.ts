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
    expect(second?.misses[0]?.message).toEqual({
      nl: 'Het verzoek geeft `subjectCount` = 250; Art. 5 lid 1 staat voor `subjectCount` hoogstens 100 toe.',
      en: 'The request gives `subjectCount` = 250; Art. 5 lid 1 allows `subjectCount` of at most 100.',
    });
    expect(d.reasons.map((r) => r.code)).toEqual(['no-permitting-rule']);
  });
});

describe('reason messages', () => {
  const named = {
    ...basePolicies,
    covenant: { ...basePolicies.covenant, validUntil: '2025-06-30' },
    partners: [{ id: 'a', name: 'Alfa' }, { id: 'b', name: { nl: 'Bravo-NL', en: 'Bravo-EN' } }, { id: 'c' }],
    dataCategories: [{ id: 'fiscal', name: 'Fiscaal' }, { id: 'fiscal.income', name: { nl: 'Inkomen', en: 'Income' } }, { id: 'fiscal.income.wage' }, { id: 'police' }],
    purposes: [{ id: 'nsoc', name: 'NSOC' }, { id: 'nsoc.tbml', name: { nl: 'Witwassen via handel', en: 'Trade-based money laundering' } }, { id: 'other' }],
    legalBases: [
      { id: 'lb', citation: 'Wet X art. 1', providers: ['a', 'b'], categories: ['fiscal', 'police'] },
      { id: 'lb-b', citation: 'Wet B', providers: ['b'], categories: ['police'], purposes: ['other'], validFrom: '2025-04-01' },
    ],
  };
  const reasons = (rules: unknown[], request: Record<string, unknown>) => run(rules, { ...baseRequest, ...request }, named).reasons.map((r) => ({ code: r.code, ...r.message }));

  it('name partners, categories and purposes beside their ids, in each language', () => {
    expect(reasons([permit({ citation: 'Art. 1' })], {})).toEqual([
      { code: 'permitted-by-rule', nl: 'Art. 1 staat toe dat Alfa (a) Inkomen (fiscal.income) verstrekt aan Bravo-NL (b).', en: 'Art. 1 permits Alfa (a) to provide Income (fiscal.income) to Bravo-EN (b).' },
    ]);
    expect(reasons([deny({ citation: 'Art. 9' })], {})).toEqual([
      { code: 'denied-by-rule', nl: 'Art. 9 verbiedt dat Alfa (a) Inkomen (fiscal.income) verstrekt aan Bravo-NL (b).', en: 'Art. 9 forbids Alfa (a) to provide Income (fiscal.income) to Bravo-EN (b).' },
    ]);
    expect(reasons([], { recipient: 'c' })).toEqual([
      {
        code: 'no-permitting-rule',
        nl: 'Geen artikel van het convenant staat toe dat Alfa (a) Inkomen (fiscal.income) verstrekt aan c voor Witwassen via handel (nsoc.tbml).',
        en: 'No article of the covenant permits Alfa (a) to provide Income (fiscal.income) to c for Trade-based money laundering (nsoc.tbml).',
      },
    ]);
  });

  it('give the period in force and the instant evaluated, in UTC and as the request gave it', () => {
    expect(reasons([permit()], { requestedAt: '2025-07-01T10:00:00+02:00', legalBasis: 'lb-b', dataCategories: ['police'], purpose: 'nsoc' })).toEqual([
      {
        code: 'covenant-not-in-force',
        nl: 'Het convenant t geldt van 2025-01-01T00:00:00.000Z tot en met 2025-06-30T23:59:59.999Z; de uitwisseling is op 2025-07-01T08:00:00.000Z (opgegeven als 2025-07-01T10:00:00+02:00).',
        en: 'Covenant t is in force from 2025-01-01T00:00:00.000Z through 2025-06-30T23:59:59.999Z; the exchange is at 2025-07-01T08:00:00.000Z (given as 2025-07-01T10:00:00+02:00).',
      },
      {
        code: 'legal-basis-not-available-to-provider',
        nl: 'Alfa (a) kan zich voor verstrekking niet beroepen op de grondslag lb-b (Wet B); dat kunnen alleen: Bravo-NL (b).',
        en: 'Alfa (a) cannot invoke legal basis lb-b (Wet B) to provide data; only these can: Bravo-EN (b).',
      },
      {
        code: 'legal-basis-does-not-cover-purpose',
        nl: 'De grondslag lb-b (Wet B) dekt het doel NSOC (nsoc) niet, alleen: other.',
        en: 'Legal basis lb-b (Wet B) does not cover purpose NSOC (nsoc), only: other.',
      },
    ]);
    const { requestedAt: _, ...noTime } = baseRequest;
    const early = run([permit()], { ...noTime, legalBasis: 'lb-b', provider: 'b', recipient: 'a', dataCategories: ['police'], purpose: 'other' }, named);
    expect(early.reasons.map((r) => r.message)).toEqual([
      {
        nl: 'De grondslag lb-b (Wet B) geldt vanaf 2025-04-01T00:00:00.000Z; de uitwisseling is op 2025-03-01T10:00:00.000Z (nu: het verzoek noemt geen tijdstip).',
        en: 'Legal basis lb-b (Wet B) is in force from 2025-04-01T00:00:00.000Z; the exchange is at 2025-03-01T10:00:00.000Z (now: the request gives no time).',
      },
    ]);
    expect(reasons([permit()], { dataCategories: ['fiscal', 'police'], legalBasis: 'lb', purpose: 'nsoc' })).toHaveLength(2);
    const uncovered = run([permit()], { ...baseRequest, dataCategories: ['police', 'fiscal'] }, { ...named, legalBases: [{ id: 'lb', citation: 'Wet X art. 1', providers: ['a'], categories: ['police'] }] });
    expect(uncovered.reasons.find((r) => r.code === 'legal-basis-does-not-cover-category')?.message).toEqual({
      nl: 'De grondslag lb (Wet X art. 1) dekt de gegevenscategorie Fiscaal (fiscal) niet, alleen: police.',
      en: 'Legal basis lb (Wet X art. 1) does not cover data category Fiscaal (fiscal), only: police.',
    });
  });
});

describe('near-miss messages', () => {
  const missFor = (when: unknown, facts: Record<string, unknown>) => {
    const d = run([permit({ citation: 'Art. 5', when: { all: [when] } })], { ...baseRequest, ...facts });
    return d.nearMisses[0]?.misses[0]?.message;
  };

  it('say each condition in a sentence of its own language, and an absent fact as absent', () => {
    const cases: [unknown, Record<string, unknown>, string, string][] = [
      [{ fact: 'subjectCount', operator: 'lessThanInclusive', value: 25 }, {}, 'Het verzoek geeft geen `subjectCount`; Art. 5 staat voor `subjectCount` hoogstens 25 toe.', 'The request gives no `subjectCount`; Art. 5 allows `subjectCount` of at most 25.'],
      [{ fact: 'subjectCount', operator: 'lessThan', value: 25 }, { subjectCount: 30 }, 'Het verzoek geeft `subjectCount` = 30; Art. 5 staat voor `subjectCount` alleen minder dan 25 toe.', 'The request gives `subjectCount` = 30; Art. 5 allows `subjectCount` below 25 only.'],
      [{ fact: 'subjectCount', operator: 'greaterThanInclusive', value: 5 }, { subjectCount: 1 }, 'Het verzoek geeft `subjectCount` = 1; Art. 5 vereist voor `subjectCount` minstens 5.', 'The request gives `subjectCount` = 1; Art. 5 requires `subjectCount` of at least 5.'],
      [{ fact: 'subjectCount', operator: 'greaterThan', value: 5 }, { subjectCount: 1 }, 'Het verzoek geeft `subjectCount` = 1; Art. 5 vereist voor `subjectCount` meer dan 5.', 'The request gives `subjectCount` = 1; Art. 5 requires `subjectCount` above 5.'],
      [{ fact: 'pseudonymised', operator: 'equal', value: true }, {}, 'Het verzoek geeft `pseudonymised` = false; Art. 5 vereist dat `pseudonymised` gelijk is aan true.', 'The request gives `pseudonymised` = false; Art. 5 requires `pseudonymised` to be true.'],
      [{ fact: 'caseReference', operator: 'notEqual', value: 'X' }, { caseReference: 'X' }, 'Het verzoek geeft `caseReference` = `X`; Art. 5 vereist dat `caseReference` niet gelijk is aan `X`.', 'The request gives `caseReference` = `X`; Art. 5 requires `caseReference` not to be `X`.'],
      [{ fact: 'context', path: '$.dpiaReference', operator: 'notEqual', value: null }, {}, 'Het verzoek geeft geen `context.dpiaReference`; Art. 5 vereist dat `context.dpiaReference` is opgegeven.', 'The request gives no `context.dpiaReference`; Art. 5 requires `context.dpiaReference` to be given.'],
      [{ fact: 'caseReference', operator: 'equal', value: null }, { caseReference: 'X' }, 'Het verzoek geeft `caseReference` = `X`; Art. 5 vereist dat `caseReference` ontbreekt.', 'The request gives `caseReference` = `X`; Art. 5 requires `caseReference` to be absent.'],
      [{ fact: 'purpose', operator: 'in', value: ['a', 'b'] }, {}, 'Het verzoek geeft `purpose` = `nsoc.tbml`; Art. 5 vereist dat `purpose` een van [`a`, `b`] is.', 'The request gives `purpose` = `nsoc.tbml`; Art. 5 requires `purpose` to be one of [`a`, `b`].'],
      [{ fact: 'purpose', operator: 'notIn', value: ['nsoc.tbml'] }, {}, 'Het verzoek geeft `purpose` = `nsoc.tbml`; Art. 5 vereist dat `purpose` geen van [`nsoc.tbml`] is.', 'The request gives `purpose` = `nsoc.tbml`; Art. 5 requires `purpose` to be none of [`nsoc.tbml`].'],
      [{ fact: 'dataCategories', operator: 'contains', value: 'police' }, {}, 'Het verzoek geeft `dataCategories` = ["fiscal.income"]; Art. 5 vereist dat `dataCategories` `police` bevat.', 'The request gives `dataCategories` = ["fiscal.income"]; Art. 5 requires `dataCategories` to contain `police`.'],
      [{ fact: 'dataCategories', operator: 'doesNotContain', value: 'fiscal.income' }, {}, 'Het verzoek geeft `dataCategories` = ["fiscal.income"]; Art. 5 vereist dat `dataCategories` `fiscal.income` niet bevat.', 'The request gives `dataCategories` = ["fiscal.income"]; Art. 5 requires `dataCategories` not to contain `fiscal.income`.'],
    ];
    for (const [when, facts, nl, en] of cases) expect(missFor(when, facts), JSON.stringify(when)).toEqual({ nl, en });
  });

  it('say which provider, recipient, purpose or legal basis the rule would take, with names and citations', () => {
    const policies = { ...basePolicies, partners: [{ id: 'a', name: 'Alfa' }, { id: 'b' }, { id: 'c', name: { nl: 'Charlie-NL', en: 'Charlie-EN' } }] };
    const messages = (rule: Record<string, unknown>) => run([permit({ citation: 'Art. 7', ...rule })], baseRequest, policies).nearMisses[0]?.misses.map((m) => m.message);
    expect(messages({ providers: ['c'] })).toEqual([{ nl: 'Art. 7 zou dit toestaan als de verstrekker Charlie-NL (c) was; het verzoek noemt Alfa (a).', en: 'Art. 7 would permit this if the provider were Charlie-EN (c); the request names Alfa (a).' }]);
    expect(messages({ recipients: ['a', 'c'] })).toEqual([{ nl: 'Art. 7 zou dit toestaan als de ontvanger Alfa (a) of Charlie-NL (c) was; het verzoek noemt b.', en: 'Art. 7 would permit this if the recipient were Alfa (a) or Charlie-EN (c); the request names b.' }]);
    expect(messages({ purposes: ['other'] })).toEqual([{ nl: 'Art. 7 zou dit toestaan als het doel other was; het verzoek noemt nsoc.tbml.', en: 'Art. 7 would permit this if the purpose were other; the request names nsoc.tbml.' }]);
    const twoBases = { ...policies, legalBases: [...policies.legalBases, { id: 'lb2', citation: 'Wet Q', providers: ['a'], categories: ['fiscal'] }] };
    expect(run([permit({ citation: 'Art. 7', legalBases: ['lb2'] })], baseRequest, twoBases).nearMisses[0]?.misses.map((m) => m.message)).toEqual([
      { nl: 'Art. 7 zou dit toestaan als de grondslag lb2 (Wet Q) was; het verzoek noemt lb (Wet X art. 1).', en: 'Art. 7 would permit this if the legal basis were lb2 (Wet Q); the request names lb (Wet X art. 1).' },
    ]);
  });

  it('never suggest a rule out of force, or a legal basis not yet in force or unavailable to the provider, at that instant', () => {
    const policies = {
      ...basePolicies,
      legalBases: [
        ...basePolicies.legalBases,
        { id: 'later', citation: 'Wet Y', providers: ['a'], categories: ['fiscal'], validFrom: '2025-04-01' },
        { id: 'others', citation: 'Wet Z', providers: ['b'], categories: ['fiscal'] },
        { id: 'now', citation: 'Wet W', providers: ['a'], categories: ['fiscal'] },
      ],
    };
    const rules = [
      permit({ id: 'p-later', legalBases: ['later'] }),
      permit({ id: 'p-others', legalBases: ['others'] }),
      permit({ id: 'p-old', validUntil: '2025-02-01' }),
      permit({ id: 'p-now', legalBases: ['later', 'now'] }),
    ];
    const d = run(rules, baseRequest, policies);
    expect(d.decision).toBe('deny');
    expect(d.nearMisses.map((n) => n.rule)).toEqual(['p-now']);
    expect(d.nearMisses[0]?.misses).toEqual([expect.objectContaining({ field: 'legalBasis', expected: ['now'], actual: 'lb' })]);
  });
});

describe('who asks within a partner', () => {
  it('lets `when` name the unit and function of the key that asks, absent as null, and says so in a near miss', () => {
    const covenant = mustCompile(
      doc('policies/p.json', basePolicies),
      doc('rules/r.json', { rules: [permit({ citation: 'Art. 3', when: { all: [{ fact: 'unit', operator: 'equal', value: 'noord' }, { fact: 'function', operator: 'in', value: ['screened'] }] } })] }),
    );
    const ask = (askedBy?: { unit?: string; function?: string }) => {
      const r = decide(covenant, baseRequest, { now: NOW, decisionId: 'd1' }, askedBy && { askedBy });
      if (!r.ok) throw new Error(JSON.stringify(r.error));
      return r.value;
    };
    expect(ask({ unit: 'noord', function: 'screened' }).decision).toBe('permit');
    expect(ask({ unit: 'zuid', function: 'screened' }).decision).toBe('deny');
    const anonymous = ask();
    expect(anonymous.decision).toBe('deny');
    expect(anonymous.nearMisses[0]?.misses.map((m) => m.message)).toEqual([
      { nl: 'De sleutel van de vrager geeft geen `unit`; Art. 3 vereist dat `unit` gelijk is aan `noord`.', en: "The caller's key gives no `unit`; Art. 3 requires `unit` to be `noord`." },
      { nl: 'De sleutel van de vrager geeft geen `function`; Art. 3 vereist dat `function` een van [`screened`] is.', en: "The caller's key gives no `function`; Art. 3 requires `function` to be one of [`screened`]." },
    ]);
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

describe('prior approvals (an extension of 2.2)', () => {
  const policies = {
    ...basePolicies,
    approvals: [{ id: 'ovj', name: { nl: 'Toestemming van de officier van justitie', en: "Public prosecutor's consent" }, citation: 'Art. 19 lid 1 Wpg' }],
  };
  const decideWith = (rules: unknown[], kinds: string[], request: Record<string, unknown> = { ...baseRequest, caseReference: 'Z-1' }, p: Record<string, unknown> = policies): Decision => {
    const covenant = mustCompile(doc('policies/p.json', p), doc('rules/r.json', { rules }));
    const result = decide(covenant, request, { now: NOW, decisionId: 'd1' }, { approvals: new Set(kinds) });
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    return result.value;
  };

  it('holds a permit rule back until its approval is granted, and says which, for which case, in Dutch and English', () => {
    const denied = decideWith([permit({ requires: ['ovj'] })], []);
    expect(denied.categories).toEqual([{ category: 'fiscal.income', decision: 'deny', rules: ['p1'], reason: 'approval-required' }]);
    expect(denied.reasons).toEqual([
      {
        code: 'approval-required',
        approvals: ['ovj'],
        rule: 'p1',
        citation: 'Art. 1',
        category: 'fiscal.income',
        message: {
          nl: 'Art. 1 staat pas na Toestemming van de officier van justitie (ovj) (Art. 19 lid 1 Wpg) toe dat a fiscal.income verstrekt aan b; voor zaak Z-1 is die op 2025-03-01T10:00:00.000Z (opgegeven als 2025-03-01T10:00:00Z) niet van kracht.',
          en: "Art. 1 permits a to provide fiscal.income to b only after Public prosecutor's consent (ovj) (Art. 19 lid 1 Wpg); none is in force for case Z-1 at 2025-03-01T10:00:00.000Z (given as 2025-03-01T10:00:00Z).",
        },
      },
    ]);
    expect(decideWith([permit({ requires: ['ovj'] })], ['ovj']).decision).toBe('permit');
    // another permit rule that needs nothing permits meanwhile; a deny still overrides
    expect(decideWith([permit({ requires: ['ovj'] }), permit({ id: 'p2' })], []).categories[0]).toMatchObject({ decision: 'permit', rules: ['p2'] });
    expect(decideWith([permit({ requires: ['ovj'] }), deny()], ['ovj']).categories[0]).toMatchObject({ decision: 'deny', reason: 'denied-by-rule' });
  });

  it('makes a legal basis that requires an approval fail at request level without it', () => {
    const p = { ...policies, legalBases: [{ ...basePolicies.legalBases[0], requires: ['ovj'] }] };
    const denied = decideWith([permit()], [], { ...baseRequest }, p);
    expect(denied.categories[0]).toMatchObject({ decision: 'deny', reason: 'approval-required', rules: [] });
    expect(denied.reasons).toEqual([
      {
        code: 'approval-required',
        approvals: ['ovj'],
        message: {
          nl: 'De grondslag lb (Wet X art. 1) vereist vooraf Toestemming van de officier van justitie (ovj) (Art. 19 lid 1 Wpg); het verzoek noemt geen zaak (caseReference) waarvoor die verleend kan zijn.',
          en: "Legal basis lb (Wet X art. 1) requires Public prosecutor's consent (ovj) (Art. 19 lid 1 Wpg) first; the request names no case (caseReference) it could be granted for.",
        },
      },
    ]);
    expect(decideWith([permit()], ['ovj'], { ...baseRequest, caseReference: 'Z-1' }, p).decision).toBe('permit');
  });

  it('names a missing approval among a near miss\'s misses', () => {
    const d = decideWith([permit({ requires: ['ovj'], recipients: ['c'] })], []);
    expect(d.categories[0]).toMatchObject({ reason: 'no-permitting-rule' });
    expect(d.nearMisses[0]?.misses.map((m) => m.field)).toEqual(['recipient', 'approvals']);
    expect(d.nearMisses[0]?.misses[1]?.message).toEqual({
      nl: 'Art. 1 vereist vooraf Toestemming van de officier van justitie (ovj); voor zaak Z-1 is die niet van kracht.',
      en: "Art. 1 requires Public prosecutor's consent (ovj) first; none is in force for case Z-1.",
    });
    const noCase = decideWith([permit({ requires: ['ovj'], recipients: ['c'] })], [], { ...baseRequest });
    expect(noCase.nearMisses[0]?.misses[1]?.message).toEqual({
      nl: 'Art. 1 vereist vooraf Toestemming van de officier van justitie (ovj) voor de zaak; het verzoek noemt geen zaak (caseReference).',
      en: "Art. 1 requires Public prosecutor's consent (ovj) for the case first; the request names no case (caseReference).",
    });
    // the basis's and a rule's message for a request naming a case, in Dutch
    const ruleWithCase = decideWith([permit({ requires: ['ovj'] })], []);
    expect(ruleWithCase.reasons[0]?.message.nl).toMatch(/^Art\. 1 staat pas na Toestemming van de officier van justitie \(ovj\) \(Art\. 19 lid 1 Wpg\) toe dat a fiscal\.income verstrekt aan b; voor zaak Z-1 is die op /);
    const p = { ...policies, legalBases: [{ ...basePolicies.legalBases[0], requires: ['ovj'] }] };
    expect(decideWith([permit()], [], { ...baseRequest, caseReference: 'Z-1' }, p).reasons[0]?.message).toEqual({
      nl: 'De grondslag lb (Wet X art. 1) vereist vooraf Toestemming van de officier van justitie (ovj) (Art. 19 lid 1 Wpg); voor zaak Z-1 is die op 2025-03-01T10:00:00.000Z (opgegeven als 2025-03-01T10:00:00Z) niet van kracht.',
      en: "Legal basis lb (Wet X art. 1) requires Public prosecutor's consent (ovj) (Art. 19 lid 1 Wpg) first; none is in force for case Z-1 at 2025-03-01T10:00:00.000Z (given as 2025-03-01T10:00:00Z).",
    });
  });
});
