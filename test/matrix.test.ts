// The covenant matrix against the engine: every unconditional row is a permitted exchange, and
// every permitted exchange has its row.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildMatrix, renderMatrix } from '../src/engine/matrix.js';
import { checkRequest, evaluate } from '../src/engine/index.js';
import { covers } from '../src/compile/source.js';
import type { Covenant } from '../src/domain/covenant.js';
import { doc, mustCompile } from './helpers.js';
import { scenarioArb, TIMES } from './arbitraries.js';

const decide = (c: Covenant, r: Record<string, unknown>, at: number) => {
  const checked = checkRequest(c, r);
  if (!checked.ok) return undefined;
  return evaluate(c, checked.value, at, { explain: false });
};

describe('the covenant matrix', () => {
  it('lists only exchanges the engine permits, and every one it permits', () => {
    fc.assert(
      fc.property(scenarioArb, fc.constantFrom(...TIMES), (s, time) => {
        const c = mustCompile(doc('policies/p.json', s.policies), doc('rules/r.json', { rules: s.rules }));
        const at = Date.parse(time);
        const m = buildMatrix(c, at);
        for (const row of m.rows.filter((r) => !r.conditional)) {
          const permitted = row.legalBases.some((lb) =>
            row.purposes.some((purpose) => decide(c, { provider: row.provider, recipient: row.recipient, dataCategories: [row.category], purpose, legalBasis: lb, requestedAt: time }, at)?.decision === 'permit'),
          );
          expect(permitted, JSON.stringify(row)).toBe(true);
        }
        const r = s.request as { provider: string; recipient: string; dataCategories: string[]; purpose: string; legalBasis: string };
        for (const category of r.dataCategories) {
          const d = decide(c, { ...r, dataCategories: [category], requestedAt: time }, at);
          if (d?.decision !== 'permit') continue;
          const row = m.rows.find(
            (x) => x.provider === r.provider && x.recipient === r.recipient && covers([x.category], category) && x.legalBases.includes(r.legalBasis) && covers(x.purposes, r.purpose),
          );
          expect(row, `${JSON.stringify({ ...r, category })} is permitted but has no row`).toBeDefined();
        }
      }),
      { numRuns: 300 },
    );
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
    expect(m.rows).toEqual([
      { provider: 'a', recipient: 'b', category: 'k', purposes: ['u'], legalBases: ['lb'], rules: ['p'], conditional: false, obligations: [{ type: 'retention', days: 30 }], conditions: [] },
    ]);
    expect(renderMatrix(m, 'csv').trim().split('\r\n')).toHaveLength(2);
    expect(renderMatrix(m, 'md')).toContain('| a | b | k | u | lb | p | no | retention 30d |');
    expect(renderMatrix(m, 'html')).toContain('<td>retention 30d</td>');
  });
});
