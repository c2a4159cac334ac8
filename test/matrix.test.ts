// The covenant matrix against the engine: every unconditional row is a permitted exchange, and
// every permitted exchange has its row.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildMatrix, renderMatrix } from '../src/engine/matrix.js';
import { checkRequest, evaluate } from '../src/engine/index.js';
import type { Covenant } from '../src/domain/covenant.js';
import { doc, mustCompile } from './helpers.js';
import { covenantArb, TIMES } from './arbitraries.js';

const decide = (c: Covenant, r: Record<string, unknown>, at: number) => {
  const checked = checkRequest(c, r);
  if (!checked.ok) return undefined;
  return evaluate(c, checked.value, at, { explain: false });
};

/** Every one-category request the vocabulary allows at `time`, with the engine's decision. */
function bruteForce(c: Covenant, time: string, facts: Record<string, unknown> = {}) {
  const at = Date.parse(time);
  const out: { provider: string; recipient: string; category: string; purpose: string; legalBasis: string; obligations: unknown }[] = [];
  for (const provider of c.partners.keys())
    for (const recipient of c.partners.keys())
      for (const category of c.categories.keys())
        for (const purpose of c.purposes.keys())
          for (const legalBasis of c.legalBases.keys()) {
            if (provider === recipient) continue;
            const d = decide(c, { provider, recipient, dataCategories: [category], purpose, legalBasis, requestedAt: time, ...facts }, at);
            if (d?.decision === 'permit') out.push({ provider, recipient, category, purpose, legalBasis, obligations: d.obligations });
          }
  return out;
}

const triple = (x: { provider: string; recipient: string; category: string }): string => `${x.provider} ${x.recipient} ${x.category}`;

describe('the covenant matrix', () => {
  it('is exact without `when`: a row per permitted (provider, recipient, category) over the whole vocabulary, with the purposes, bases and obligations of each way', () => {
    fc.assert(
      fc.property(covenantArb, fc.constantFrom(...TIMES), (g, time) => {
        const rules = g.rules.map(({ when: _, ...r }) => r);
        const c = mustCompile(doc('policies/p.json', g.policies), doc('rules/r.json', { rules }));
        const m = buildMatrix(c, Date.parse(time));
        const permitted = bruteForce(c, time);
        expect(m.rows.map(triple)).toEqual([...new Set(permitted.map(triple))].sort((a, b) => a.localeCompare(b)));
        for (const row of m.rows) {
          const here = permitted.filter((p) => triple(p) === triple(row));
          expect(row.conditional).toBe(false);
          expect(row.purposes).toEqual([...new Set(here.map((p) => p.purpose))].sort());
          expect(row.legalBases).toEqual([...new Set(here.map((p) => p.legalBasis))].sort());
          // each way's obligations are exactly those of the decisions made that way
          const ways = row.ways.flatMap((w) => w.purposes.map((purpose) => ({ purpose, legalBasis: w.legalBasis, obligations: w.obligations })));
          expect(ways.map((w) => `${w.legalBasis} ${w.purpose}`).sort()).toEqual(here.map((p) => `${p.legalBasis} ${p.purpose}`).sort());
          for (const w of ways) expect(w.obligations).toEqual(here.find((p) => p.purpose === w.purpose && p.legalBasis === w.legalBasis)?.obligations);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('with `when`: every permitted request has its row and way, and an unconditional way permits whatever the facts', () => {
    const factsArb = fc.constantFrom<Record<string, unknown>>({}, { subjectCount: 5, pseudonymised: true, caseReference: 'X', context: { ref: 'r' } }, { subjectCount: 80 });
    fc.assert(
      fc.property(covenantArb, fc.constantFrom(...TIMES), factsArb, (g, time, facts) => {
        const c = mustCompile(doc('policies/p.json', g.policies), doc('rules/r.json', { rules: g.rules }));
        const m = buildMatrix(c, Date.parse(time));
        for (const p of bruteForce(c, time, facts)) {
          const row = m.rows.find((r) => triple(r) === triple(p));
          expect(row?.ways.some((w) => w.legalBasis === p.legalBasis && w.purposes.includes(p.purpose)), `${JSON.stringify(p)} is permitted but not in the matrix`).toBe(true);
        }
        for (const row of m.rows) {
          for (const w of row.ways.filter((x) => !x.conditional)) {
            for (const purpose of w.purposes) {
              const d = decide(c, { provider: row.provider, recipient: row.recipient, dataCategories: [row.category], purpose, legalBasis: w.legalBasis, requestedAt: time, ...facts }, Date.parse(time));
              expect(d?.decision, JSON.stringify({ row: triple(row), purpose, w })).toBe('permit');
            }
          }
          expect(row.conditional).toBe(row.ways.every((w) => w.conditional));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('lists a child category whose parent a rule names, and siblings of a listed category that the basis covers', () => {
    const c = mustCompile(
      doc('policies/p.json', {
        covenant: { id: 'm' },
        partners: [{ id: 'a', name: 'Alpha' }, { id: 'b' }],
        dataCategories: [{ id: 'x' }, { id: 'x.b' }, { id: 'x.b.c', name: { nl: 'Cee', en: 'See' } }, { id: 'x.d' }],
        purposes: [{ id: 'u' }, { id: 'u.v' }],
        legalBases: [{ id: 'lb', citation: 'X', providers: ['a'], categories: ['x'] }],
      }),
      doc('rules/r.json', {
        rules: [
          { id: 'p1', citation: 'c', effect: 'permit', categories: ['x.b'], obligations: [{ type: 'retention', days: 30 }] },
          { id: 'p2', citation: 'c', effect: 'permit', categories: ['x'], purposes: ['u.v'], obligations: [{ type: 'retention', days: 90 }] },
        ],
      }),
    );
    const m = buildMatrix(c, Date.parse('2025-01-01T00:00:00Z'));
    expect(m.rows.map(triple)).toEqual(['a b x', 'a b x.b', 'a b x.b.c', 'a b x.d']);
    const child = m.rows.find((r) => r.category === 'x.b.c');
    expect(child?.names).toEqual({ provider: 'Alpha', recipient: 'b', category: { nl: 'Cee', en: 'See' } });
    // for u.v both rules apply in one decision (obligations merged); for u only p1: never merged across the two
    expect(child?.ways).toEqual([
      { legalBasis: 'lb', purposes: ['u'], rules: ['p1'], obligations: [{ type: 'retention', days: 30 }], conditional: false, conditions: [], approvals: [] },
      { legalBasis: 'lb', purposes: ['u.v'], rules: ['p1', 'p2'], obligations: [{ type: 'retention', days: 30 }], conditional: false, conditions: [], approvals: [] },
    ]);
    expect(m.rows.find((r) => r.category === 'x.d')?.ways).toEqual([{ legalBasis: 'lb', purposes: ['u.v'], rules: ['p2'], obligations: [{ type: 'retention', days: 90 }], conditional: false, conditions: [], approvals: [] }]);
  });

  it('shows what approvals a way needs: the legal basis\'s for every way, a rule\'s as its condition; with them granted it permits, as decide does', () => {
    const c = mustCompile(
      doc('policies/p.json', {
        covenant: { id: 'm' },
        partners: [{ id: 'a' }, { id: 'b' }],
        dataCategories: [{ id: 'x' }, { id: 'y' }],
        purposes: [{ id: 'u' }],
        approvals: [{ id: 'ovj' }, { id: 'cie' }],
        legalBases: [
          { id: 'lb', citation: 'X', providers: ['a'], categories: ['x', 'y'], requires: ['ovj'] },
          { id: 'free', citation: 'Y', providers: ['a'], categories: ['y'] },
        ],
      }),
      doc('rules/r.json', {
        rules: [
          { id: 'px', citation: 'c', effect: 'permit', categories: ['x'] },
          { id: 'py', citation: 'c', effect: 'permit', categories: ['y'], requires: ['cie'] },
        ],
      }),
    );
    const at = Date.parse('2025-01-01T00:00:00Z');
    const m = buildMatrix(c, at);
    const x = m.rows.find((r) => r.category === 'x');
    expect(x).toMatchObject({ conditional: true, ways: [{ legalBasis: 'lb', approvals: ['ovj'], conditions: [], conditional: true }] });
    const y = m.rows.find((r) => r.category === 'y');
    expect(y?.ways).toEqual([
      expect.objectContaining({ legalBasis: 'free', approvals: [], conditions: [{ rule: 'py', effect: 'permit', when: null, requires: ['cie'] }], conditional: true }),
      expect.objectContaining({ legalBasis: 'lb', approvals: ['ovj'], conditions: [{ rule: 'py', effect: 'permit', when: null, requires: ['cie'] }], conditional: true }),
    ]);
    expect(renderMatrix(m, 'md')).toMatch(/lb for u after approval ovj: none.*py \(permit\) after approval cie/);
    const request = (category: string, legalBasis: string) => ({ provider: 'a', recipient: 'b', dataCategories: [category], purpose: 'u', legalBasis });
    const run = (category: string, legalBasis: string, kinds: string[]) => {
      const checked = checkRequest(c, request(category, legalBasis));
      if (!checked.ok) throw new Error('bad request');
      return evaluate(c, checked.value, at, { approvals: new Set(kinds) }).decision;
    };
    for (const [category, lb] of [['x', 'lb'], ['y', 'lb'], ['y', 'free']] as const) {
      expect(run(category, lb, ['ovj', 'cie'])).toBe('permit');
      expect(run(category, lb, [])).toBe('deny');
    }
  });

  it('renders as Markdown, CSV and HTML with one line per row', () => {
    const c = mustCompile(
      doc('policies/p.json', {
        covenant: { id: 'm' },
        partners: [{ id: 'a' }, { id: 'b' }],
        dataCategories: [{ id: 'k' }],
        purposes: [{ id: 'u' }],
        legalBases: [{ id: 'lb', citation: 'X', providers: ['a'], categories: ['k'] }],
      }),
      doc('rules/r.json', { rules: [{ id: 'p', citation: 'c', effect: 'permit', obligations: [{ type: 'retention', days: 30 }] }] }),
    );
    const m = buildMatrix(c, Date.parse('2025-01-01T00:00:00Z'));
    expect(m.rows).toMatchObject([{ provider: 'a', recipient: 'b', category: 'k', purposes: ['u'], legalBases: ['lb'], rules: ['p'], conditional: false, conditions: [] }]);
    expect(renderMatrix(m, 'csv').trim().split('\r\n')).toHaveLength(2);
    expect(renderMatrix(m, 'md')).toContain('| a | b | k | u | lb | p | no | lb for u: retention 30d |  |');
    expect(renderMatrix(m, 'html')).toContain('<td>lb for u: retention 30d</td>');
  });
});
