// The engine's laws, over generated covenants and requests (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkRequest, decisionJson, evaluate, everyRule } from '../src/engine/index.js';
import type { Covenant } from '../src/domain/covenant.js';
import type { Evaluation } from '../src/domain/types.js';
import { doc, mustCompile } from './helpers.js';
import { covers } from '../src/compile/source.js';
import { within } from '../src/compile/time.js';
import { evaluateCondition } from '../src/conditions/index.js';
import { factsOf } from '../src/engine/decide.js';
import { oracle } from './oracle.js';
import { approvalScenarioArb, CATEGORIES, covenantArb, requestArb, ruleArb, scenarioArb, type Generated } from './arbitraries.js';

const NOW = Date.parse('2025-05-01T00:00:00Z');
const RUNS = { numRuns: 300 };

function build(g: Generated, format: 'json' | 'yaml' = 'json'): Covenant {
  const write = format === 'json' ? (v: unknown) => JSON.stringify(v) : (v: unknown) => stringify(v);
  return mustCompile(doc(`policies/p.${format}`, write(g.policies)), doc(`rules/r.${format}`, write({ rules: g.rules })));
}

function run(c: Covenant, request: unknown, options = {}): Evaluation {
  const checked = checkRequest(c, request);
  if (!checked.ok) throw new Error(JSON.stringify(checked.error));
  return evaluate(c, checked.value, NOW, options);
}

const shape = (e: Evaluation) => ({ decision: e.decision, categories: e.categories });

describe('engine laws', () => {
  it('agrees with a naive reading of every rule through json-rules-engine itself', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const expected = await oracle(s.policies, s.rules, s.request, NOW);
        expect(shape(run(build(s), s.request))).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('gives the same answer through the index as through a loop over every rule', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const c = build(s);
        expect(run(c, s.request)).toEqual(run(c, s.request, { candidates: everyRule }));
      }),
      RUNS,
    );
  });

  it('denies by default: without permit rules nothing is permitted', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const d = run(build({ ...s, rules: s.rules.filter((r) => r.effect === 'deny') }), s.request);
        expect(d.decision).toBe('deny');
        expect(d.categories.every((c) => c.decision === 'deny')).toBe(true);
      }),
      RUNS,
    );
  });

  it('lets deny override permit: a deny with the scope of a permitting rule denies that category', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const before = run(build(s), s.request);
        for (const cat of before.categories) {
          if (cat.decision !== 'permit') continue;
          const permitting = s.rules.find((r) => r.id === cat.rules[0]) as Record<string, unknown>;
          const { when: _w, obligations: _o, ...scope } = permitting;
          const after = run(build({ ...s, rules: [...s.rules, { ...scope, id: 'zz', effect: 'deny' }] }), s.request);
          const same = after.categories.find((c) => c.category === cat.category);
          expect(same).toMatchObject({ decision: 'deny', reason: 'denied-by-rule' });
          expect(same?.rules).toContain('zz');
          expect(after.decision).toBe('deny');
        }
      }),
      RUNS,
    );
  });

  it('never turns a deny into a permit by adding a deny rule', () => {
    fc.assert(
      fc.property(scenarioArb, ruleArb(['lb0'], 'zz'), (s, extra) => {
        const before = run(build(s), s.request);
        const after = run(build({ ...s, rules: [...s.rules, { ...extra, effect: 'deny' }] }), s.request);
        before.categories.forEach((c, i) => {
          if (c.decision === 'deny') expect(after.categories[i]?.decision).toBe('deny');
        });
        if (before.decision === 'deny') expect(after.decision).toBe('deny');
      }),
      RUNS,
    );
  });

  it('never turns a permit into a deny by adding a permit rule', () => {
    fc.assert(
      fc.property(scenarioArb, ruleArb(['lb0'], 'zz'), (s, extra) => {
        const before = run(build(s), s.request);
        const after = run(build({ ...s, rules: [...s.rules, { ...extra, effect: 'permit' }] }), s.request);
        before.categories.forEach((c, i) => {
          if (c.decision === 'permit') expect(after.categories[i]?.decision).toBe('permit');
        });
        if (before.decision === 'permit') expect(after.decision).toBe('permit');
      }),
      RUNS,
    );
  });

  it('is deterministic: same request, time and version give the same decision', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const a = build(s);
        const b = build(s);
        expect(a.policyVersion).toBe(b.policyVersion);
        expect(run(a, s.request)).toEqual(run(a, s.request));
        expect(run(a, s.request)).toEqual(run(b, s.request));
      }),
      RUNS,
    );
  });

  it('shares verdicts without changing a decision: many requests on one covenant equal each on a fresh one', () => {
    fc.assert(
      fc.property(
        covenantArb.chain((g) => {
          const request = requestArb(g.policies.legalBases.length);
          // the same question with other facts and times, where sharing could go wrong, and others
          const sameIds = fc.tuple(request, fc.array(request, { minLength: 1, maxLength: 6 })).map(([base, others]) =>
            others.map(({ provider: _p, recipient: _r, purpose: _u, legalBasis: _l, dataCategories: _c, ...facts }) => ({ ...base, ...facts })),
          );
          return fc.tuple(fc.constant(g), sameIds, fc.array(request, { maxLength: 4 }));
        }),
        ([g, sameIds, others]) => {
          const requests = [...sameIds, ...others];
          const shared = build(g);
          // twice over, so that the second round finds every verdict of the first ready-made
          for (const request of [...requests, ...requests]) {
            const warm = run(shared, request);
            expect(warm).toEqual(run(build(g), request));
            const decision = { decisionId: '01JC0000000000000000000000', ...warm };
            expect(decisionJson(decision)).toBe(JSON.stringify(decision));
            expect(Object.isFrozen(warm.categories) && Object.isFrozen(warm.reasons[0] ?? {})).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('writes a decision it did not make itself as JSON.stringify does', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const e = run(build(s), s.request);
        // a copy carries none of the shared verdict: the text is made the long way, and the same
        const decision = structuredClone({ decisionId: 'x"\\u2028', ...e });
        expect(decisionJson(decision)).toBe(JSON.stringify(decision));
        const altered = { ...e, decisionId: 'y', reasons: [] };
        expect(decisionJson(altered)).toBe(JSON.stringify(altered));
      }),
      { numRuns: 100 },
    );
  });

  it('lets a parent cover its descendants and never its ancestors', () => {
    const open = {
      covenant: { id: 'h' },
      partners: [{ id: 'a' }, { id: 'b' }],
      dataCategories: CATEGORIES.map((id) => ({ id })),
      purposes: [{ id: 'u' }],
      legalBases: [{ id: 'lb0', citation: 'X', providers: ['a'], categories: ['k', 'm'] }],
    };
    fc.assert(
      fc.property(fc.constantFrom(...CATEGORIES), fc.constantFrom(...CATEGORIES), (listed, requested) => {
        const c = build({ policies: open, rules: [{ id: 'p', citation: 'c', effect: 'permit', categories: [listed] }] });
        const d = run(c, { provider: 'a', recipient: 'b', dataCategories: [requested], purpose: 'u', legalBasis: 'lb0' });
        const descends = requested === listed || requested.startsWith(`${listed}.`);
        expect(d.decision).toBe(descends ? 'permit' : 'deny');
      }),
    );
  });

  it('loads YAML and JSON to the same covenant', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const fromJson = build(s, 'json');
        const fromYaml = build(s, 'yaml');
        const strip = (c: Covenant) => ({
          ...c,
          index: undefined,
          rulesById: undefined,
          policyVersion: undefined,
          files: undefined,
          // compiled conditions hold closures; compare the clauses they were compiled from
          rules: c.rules.map((r) => ({ ...r, source: undefined, when: r.when?.source })),
        });
        expect(strip(fromYaml)).toEqual(strip(fromJson));
        const { policyVersion: _a, ...json } = run(fromJson, s.request);
        const { policyVersion: _b, ...yaml } = run(fromYaml, s.request);
        expect(yaml).toEqual(json);
      }),
      { numRuns: 100 },
    );
  });
});

describe('near misses', () => {
  it('are the closest permit rules for the category, as a naive count of misses finds them', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const c = build(s);
        const d = run(c, s.request);
        const t = Date.parse(String((s.request as { requestedAt: string }).requestedAt));
        for (const cat of d.categories) {
          if (cat.decision !== 'deny' || cat.reason !== 'no-permitting-rule') {
            expect(d.nearMisses.filter((n) => n.category === cat.category)).toEqual([]);
            continue;
          }
          const r = s.request as { provider: string; recipient: string; purpose: string; legalBasis: string };
          // advice is never to use what could not be used then: a rule out of force, or one whose
          // every legal basis is out of force, unavailable to the provider or not covering the exchange
          const usable = (id: string): boolean => {
            const lb = c.legalBases.get(id);
            return !!lb && within(lb.validity, t) && lb.providers.has(r.provider) && (!lb.purposes || covers(lb.purposes, r.purpose)) && covers(lb.categories, cat.category);
          };
          const scored = c.rules
            .filter((rule) => rule.effect === 'permit' && (!rule.categories || covers(rule.categories, cat.category)))
            .filter((rule) => within(rule.validity, t) && (!rule.legalBases || rule.legalBases.has(r.legalBasis) || [...rule.legalBases].some(usable)))
            .map((rule) => {
              const fields =
                Number(!!rule.providers && !rule.providers.has(r.provider)) +
                Number(!!rule.recipients && !rule.recipients.has(r.recipient)) +
                Number(!!rule.legalBases && !rule.legalBases.has(r.legalBasis)) +
                Number(!!rule.purposes && !covers(rule.purposes, r.purpose));
              const facts = factsOf(s.request as never);
              const other = Number(!!rule.when && evaluateCondition(rule.when, facts) !== 'holds');
              return { id: rule.id, order: rule.order, fields, score: fields + other };
            })
            .filter((x) => x.fields <= 2 && x.score > 0)
            .sort((a, b) => a.score - b.score || a.order - b.order)
            .slice(0, 3)
            .map((x) => x.id);
          expect(d.nearMisses.filter((n) => n.category === cat.category).map((n) => n.rule)).toEqual(scored);
          for (const n of d.nearMisses) {
            expect(n.misses.length).toBeGreaterThan(0);
            for (const m of n.misses.filter((x) => x.field === 'legalBasis')) for (const id of m.expected as string[]) expect(usable(id), id).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });
});

describe('prior approvals', () => {
  type Scenario = Generated & { request: Record<string, unknown>; granted: string[] };
  const withRequires = (s: Scenario): Covenant => build(s);
  const withoutRequires = (s: Scenario): Covenant =>
    build({
      policies: { ...s.policies, legalBases: s.policies.legalBases.map(({ requires: _, ...lb }: Record<string, unknown>) => lb) },
      rules: s.rules.map(({ requires: _, ...r }) => r),
    });
  const granted = (kinds: readonly string[]) => ({ approvals: new Set(kinds) });

  it('agree with the naive reading through json-rules-engine, whatever is granted', async () => {
    await fc.assert(
      fc.asyncProperty(approvalScenarioArb, async (s) => {
        expect(shape(run(withRequires(s), s.request, granted(s.granted)))).toEqual(await oracle(s.policies, s.rules, s.request, NOW, s.granted));
      }),
      RUNS,
    );
  });

  it('only ever hold back: what a covenant with `requires` permits, the same covenant without them permits', () => {
    fc.assert(
      fc.property(approvalScenarioArb, (s) => {
        const held = run(withRequires(s), s.request, granted(s.granted));
        const free = run(withoutRequires(s), s.request);
        for (const [i, cat] of held.categories.entries()) if (cat.decision === 'permit') expect(free.categories[i]).toEqual(cat);
      }),
      RUNS,
    );
  });

  it('with every kind granted, decide as if nothing were required', () => {
    fc.assert(
      fc.property(approvalScenarioArb, (s) => {
        expect(shape(run(withRequires(s), s.request, granted(['ovj', 'cie'])))).toEqual(shape(run(withoutRequires(s), s.request)));
      }),
      RUNS,
    );
  });

  it('never turn a permit into a deny when one more approval is granted', () => {
    fc.assert(
      fc.property(approvalScenarioArb, fc.constantFrom('ovj', 'cie'), (s, more) => {
        const before = run(withRequires(s), s.request, granted(s.granted));
        const after = run(withRequires(s), s.request, granted([...s.granted, more]));
        for (const [i, cat] of before.categories.entries()) if (cat.decision === 'permit') expect(after.categories[i]?.decision).toBe('permit');
        if (before.decision === 'permit') expect(after.decision).toBe('permit');
      }),
      RUNS,
    );
  });

  it('name what is missing: each approval-required reason lists kinds the case lacks, and only those', () => {
    fc.assert(
      fc.property(approvalScenarioArb, (s) => {
        const d = run(withRequires(s), s.request, granted(s.granted));
        for (const r of d.reasons) {
          if (r.code !== 'approval-required') continue;
          expect(r.approvals.length).toBeGreaterThan(0);
          for (const k of r.approvals) expect(s.granted).not.toContain(k);
        }
        // a category held back is explained, and a rule's reason belongs to a category held back
        const awaiting = d.categories.filter((c) => c.decision === 'deny' && c.reason === 'approval-required').map((c) => c.category);
        if (awaiting.length > 0) expect(d.reasons.some((r) => r.code === 'approval-required')).toBe(true);
        for (const r of d.reasons) if (r.code === 'approval-required' && r.rule !== undefined) expect(awaiting).toContain(r.category);
      }),
      RUNS,
    );
  });
});
