// fast-check generators of small covenants and requests over one shared vocabulary, dense enough
// that rules, hierarchies and validity windows interact often.
import fc from 'fast-check';

export const PARTNERS = ['a', 'b', 'c', 'd'];
export const CATEGORIES = ['k', 'k.a', 'k.a.x', 'k.b', 'm', 'm.a'];
export const PURPOSES = ['u', 'u.a', 'u.a.x', 'v'];
const DATES = ['2025-01-01', '2025-03-31', '2025-06-30', '2025-06-15T12:00:00Z', '2025-09-30', '2025-12-31'];
export const TIMES = [
  '2024-12-31T23:59:59Z',
  '2025-01-01T00:00:00Z',
  '2025-03-31T23:59:59.999Z',
  '2025-04-01T00:00:00Z',
  '2025-06-15T12:00:00Z',
  '2025-06-30T12:00:00Z',
  '2025-10-01T00:00:00+02:00',
  '2026-01-01T00:00:00Z',
];
export const CONDITIONS: unknown[] = [
  { all: [{ fact: 'subjectCount', operator: 'lessThanInclusive', value: 10 }] },
  { any: [{ fact: 'pseudonymised', operator: 'equal', value: true }, { fact: 'subjectCount', operator: 'greaterThan', value: 50 }] },
  { all: [{ fact: 'context', path: '$.ref', operator: 'notEqual', value: null }] },
  { not: { fact: 'caseReference', operator: 'equal', value: null } },
  { all: [{ fact: 'dataCategories', operator: 'contains', value: 'k' }] },
  // cannot be evaluated: `in` against a number or null throws inside the operator
  { all: [{ fact: 'purpose', operator: 'in', value: { fact: 'subjectCount' } }] },
];
const OBLIGATIONS = [{ type: 'retention', days: 30 }, { type: 'retention', days: 90 }, { type: 'pseudonymise' }, { type: 'notify', role: 'privacy-officer' }];

const subset = (of: string[]) => fc.uniqueArray(fc.constantFrom(...of), { minLength: 1, maxLength: 3 });

const validity = fc
  .record({ from: fc.option(fc.constantFrom(...DATES), { nil: undefined }), until: fc.option(fc.constantFrom(...DATES), { nil: undefined }) })
  .map(({ from, until }) => {
    // keep validFrom <= validUntil, as a valid file must
    if (from !== undefined && until !== undefined && Date.parse(from.length === 10 ? `${from}T00:00:00Z` : from) > Date.parse(until.length === 10 ? `${until}T23:59:59.999Z` : until)) {
      [from, until] = [until, from];
    }
    return { ...(from !== undefined && { validFrom: from }), ...(until !== undefined && { validUntil: until }) };
  });

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

export const ruleArb = (lbIds: string[], id: string) =>
  fc
    .record({
      effect: fc.constantFrom('permit', 'deny'),
      providers: optional(subset(PARTNERS)),
      recipients: optional(subset(PARTNERS)),
      categories: optional(subset(CATEGORIES)),
      purposes: optional(subset(PURPOSES)),
      legalBases: optional(subset(lbIds)),
      when: optional(fc.constantFrom(...CONDITIONS)),
      obligations: optional(fc.uniqueArray(fc.constantFrom(...OBLIGATIONS), { minLength: 1, maxLength: 3 })),
      validity,
    })
    .map(({ validity: v, ...r }) => {
      const out: Record<string, unknown> = { id, citation: `Art. ${id}`, effect: r.effect };
      for (const [k, value] of Object.entries(r)) if (value !== undefined && k !== 'effect') out[k] = value;
      return { ...out, ...v };
    });

export interface Generated {
  policies: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  rules: Record<string, unknown>[];
}

export const covenantArb: fc.Arbitrary<Generated> = fc.integer({ min: 1, max: 3 }).chain((nLb) => {
  const lbIds = Array.from({ length: nLb }, (_, i) => `lb${i}`);
  const lb = (id: string) =>
    fc
      .record({ providers: subset(PARTNERS), categories: subset(CATEGORIES), purposes: optional(subset(PURPOSES)), validity })
      .map(({ validity: v, purposes, ...x }) => ({ id, citation: `Wet ${id}`, ...x, ...(purposes && { purposes }), ...v }));
  return fc.record({
    covenantValidity: validity,
    legalBases: fc.tuple(...lbIds.map(lb)),
    rules: fc.integer({ min: 0, max: 8 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => ruleArb(lbIds, `r${i}`)))),
  }).map(({ covenantValidity, legalBases, rules }) => ({
    policies: {
      covenant: { id: 'gen', title: 'Generated', ...covenantValidity },
      partners: PARTNERS.map((id) => ({ id })),
      dataCategories: CATEGORIES.map((id) => ({ id })),
      purposes: PURPOSES.map((id) => ({ id })),
      legalBases,
    },
    rules,
  }));
});

export const requestArb = (lbCount = 3) =>
  fc
    .record({
      pair: fc.uniqueArray(fc.constantFrom(...PARTNERS), { minLength: 2, maxLength: 2 }),
      dataCategories: fc.uniqueArray(fc.constantFrom(...CATEGORIES), { minLength: 1, maxLength: 3 }),
      purpose: fc.constantFrom(...PURPOSES),
      legalBasis: fc.integer({ min: 0, max: lbCount - 1 }).map((i) => `lb${i}`),
      subjectCount: optional(fc.integer({ min: 0, max: 100 })),
      pseudonymised: optional(fc.boolean()),
      caseReference: optional(fc.constant('NSOC-1')),
      context: optional(fc.constantFrom({ ref: 'x' }, {}, { other: 1 })),
      requestedAt: fc.constantFrom(...TIMES),
    })
    .map(({ pair, ...r }) => {
      const out: Record<string, unknown> = { provider: pair[0], recipient: pair[1] };
      for (const [k, v] of Object.entries(r)) if (v !== undefined) out[k] = v;
      return out;
    });

/** A covenant with a request that names only ids it defines. */
export const scenarioArb = covenantArb.chain((g) =>
  requestArb(g.policies.legalBases.length).map((request) => ({ ...g, request })),
);

export const APPROVALS = ['ovj', 'cie'];

/**
 * A scenario whose legal bases and permit rules may require approvals (kinds `ovj`, `cie`), with
 * the kinds granted for the request's case.
 */
export const approvalScenarioArb = scenarioArb.chain((s) =>
  fc
    .record({
      lbRequires: fc.tuple(...s.policies.legalBases.map(() => optional(subset(APPROVALS)))),
      ruleRequires: fc.tuple(...s.rules.map(() => optional(subset(APPROVALS)))),
      granted: fc.subarray(APPROVALS),
    })
    .map(({ lbRequires, ruleRequires, granted }) => ({
      policies: {
        ...s.policies,
        approvals: APPROVALS.map((id) => ({ id })),
        legalBases: s.policies.legalBases.map((lb: Record<string, unknown>, i: number) => (lbRequires[i] ? { ...lb, requires: lbRequires[i] } : lb)),
      },
      rules: s.rules.map((r, i) => (ruleRequires[i] && r.effect === 'permit' ? { ...r, requires: ruleRequires[i] } : r)),
      request: s.request,
      granted,
    })),
);
