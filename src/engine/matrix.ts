// The covenant matrix: who may share which category with whom at a date, for which purposes, on
// which legal bases, under which conditions and obligations, derived from the rules and legal
// bases, never written by hand.
import type { Covenant } from '../domain/covenant.js';
import type { Id, Name, Obligation } from '../domain/types.js';
import { covers } from '../compile/source.js';
import { within } from '../compile/time.js';
import { mergeObligations } from './obligations.js';
import { stringify } from 'csv-stringify/sync';
import { nameBesideId, printable } from '../domain/text.js';

/** A `when` clause, a deny rule or approvals that a permitted exchange depends on. */
export interface MatrixCondition {
  rule: Id;
  effect: 'permit' | 'deny';
  /** the clause as written; null for a permit rule that has none and requires approvals */
  when: unknown;
  /** the approval kinds the permit rule requires for the request's case */
  requires?: Id[];
}

/**
 * One way to a permitted exchange: a legal basis, the purposes for which it permits, and what a
 * decision made that way carries. Obligations are never merged across ways: a decision takes one.
 */
export interface MatrixWay {
  legalBasis: Id;
  purposes: Id[];
  /** the permit rules that apply */
  rules: Id[];
  /** as a decision made this way carries them (CONTRACT 2.2(6)), every permit rule's `when` holding and its approvals granted */
  obligations: Obligation[];
  conditional: boolean;
  conditions: MatrixCondition[];
  /** the approval kinds the legal basis requires for the request's case, whichever rule permits */
  approvals: Id[];
}

export interface MatrixRow {
  provider: Id;
  recipient: Id;
  category: Id;
  names: { provider: Name; recipient: Name; category: Name };
  /** every purpose, and every legal basis, for which some way permits */
  purposes: Id[];
  legalBases: Id[];
  rules: Id[];
  /** true when no way permits regardless of the request's other facts: a `when` must hold, a deny's must not, or an approval must be granted */
  conditional: boolean;
  /** the conditions of every way */
  conditions: MatrixCondition[];
  ways: MatrixWay[];
}

export interface Matrix {
  at: string;
  policyVersion: string;
  rows: MatrixRow[];
}

/**
 * Exact by construction: every (provider, recipient, category, purpose, legal basis) that a permit
 * rule could reach, over every category and purpose of the vocabulary (a parent's descendants as
 * well), is decided as the engine decides a one-category request (CONTRACT 2.2), `when` aside: a
 * permit rule's `when` may hold and a deny rule's may not, which makes the way conditional. So a
 * row is listed exactly when some request is permitted, and a covenant without `when` has exactly
 * the rows that decide permits.
 */
export function buildMatrix(c: Covenant, at: number): Matrix {
  const rows = new Map<string, MatrixRow>();
  if (!within(c.info.validity, at)) return { at: new Date(at).toISOString(), policyVersion: c.policyVersion, rows: [] };
  const partners = [...c.partners.keys()];
  const categories = [...c.categories.keys()];
  const purposes = [...c.purposes.keys()];
  const bases = [...c.legalBases.values()].filter((lb) => within(lb.validity, at));
  const seen = new Set<string>();
  for (const rule of c.rules) {
    if (rule.effect !== 'permit' || !within(rule.validity, at)) continue;
    for (const lb of bases) {
      if (rule.legalBases && !rule.legalBases.has(lb.id)) continue;
      const cats = categories.filter((x) => covers(lb.categories, x) && (!rule.categories || covers(rule.categories, x)));
      const purps = purposes.filter((x) => (!lb.purposes || covers(lb.purposes, x)) && (!rule.purposes || covers(rule.purposes, x)));
      for (const provider of rule.providers ?? partners) {
        if (!lb.providers.has(provider)) continue;
        for (const recipient of rule.recipients ?? partners) {
          if (recipient === provider) continue;
          for (const category of cats) {
            for (const purpose of purps) {
              const key = `${provider}\u0000${recipient}\u0000${category}\u0000${purpose}\u0000${lb.id}`;
              if (seen.has(key)) continue;
              seen.add(key);
              const way = decidePoint(c, at, { provider, recipient, category, purpose, lb: lb.id });
              if (way) addWay(c, rows, { provider, recipient, category }, purpose, way);
            }
          }
        }
      }
    }
  }
  const sorted = [...rows.values()].sort(
    (a, b) => a.provider.localeCompare(b.provider) || a.recipient.localeCompare(b.recipient) || a.category.localeCompare(b.category),
  );
  for (const row of sorted) row.ways.sort((a, b) => a.legalBasis.localeCompare(b.legalBasis) || (a.purposes[0] ?? '').localeCompare(b.purposes[0] ?? ''));
  return { at: new Date(at).toISOString(), policyVersion: c.policyVersion, rows: sorted };
}

type Point = { provider: Id; recipient: Id; category: Id; purpose: Id; lb: Id };
type WayAt = Omit<MatrixWay, 'purposes'>;

/**
 * A one-category request at a point whose request-level checks pass (CONTRACT 2.2(2)-(3) are met
 * by how points are chosen): the rules that apply by 2.2(4) without their `when`, then 2.2(5).
 */
function decidePoint(c: Covenant, at: number, p: Point): WayAt | undefined {
  const applying = c.index.candidates(p.provider, p.recipient, p.lb, p.purpose, p.category).filter((r) => within(r.validity, at));
  const denies = applying.filter((r) => r.effect === 'deny');
  const permits = applying.filter((r) => r.effect === 'permit');
  // A deny without `when` always applies; one with `when` may (one that cannot be evaluated does).
  if (permits.length === 0 || denies.some((d) => !d.when)) return undefined;
  const conditions: MatrixCondition[] = [
    ...permits.filter((r) => r.when || r.requires).map((r) => ({ rule: r.id, effect: 'permit' as const, when: r.when?.source ?? null, ...(r.requires && { requires: [...r.requires] }) })),
    ...denies.map((d) => ({ rule: d.id, effect: 'deny' as const, when: d.when?.source })),
  ];
  const approvals = [...(c.legalBases.get(p.lb)?.requires ?? [])];
  return {
    legalBasis: p.lb,
    rules: permits.map((r) => r.id),
    obligations: mergeObligations(permits.flatMap((r) => r.obligations)),
    conditional: denies.length > 0 || approvals.length > 0 || permits.every((r) => r.when || r.requires),
    conditions,
    approvals,
  };
}

function addWay(c: Covenant, rows: Map<string, MatrixRow>, t: { provider: Id; recipient: Id; category: Id }, purpose: Id, way: WayAt): void {
  const key = `${t.provider}\u0000${t.recipient}\u0000${t.category}`;
  let row = rows.get(key);
  if (!row) {
    const name = (m: ReadonlyMap<Id, { name: Name }>, id: Id): Name => m.get(id)?.name ?? id;
    row = {
      ...t,
      names: { provider: name(c.partners, t.provider), recipient: name(c.partners, t.recipient), category: name(c.categories, t.category) },
      purposes: [],
      legalBases: [],
      rules: [],
      conditional: true,
      conditions: [],
      ways: [],
    };
    rows.set(key, row);
  }
  const add = (list: Id[], id: Id): void => {
    if (!list.includes(id)) list.push(id);
  };
  add(row.purposes, purpose);
  row.purposes.sort();
  add(row.legalBases, way.legalBasis);
  row.legalBases.sort();
  for (const r of way.rules) add(row.rules, r);
  for (const cond of way.conditions) if (!row.conditions.some((x) => x.rule === cond.rule)) row.conditions.push(cond);
  if (!way.conditional) row.conditional = false;
  // Purposes that lead to the same rules, obligations and conditions on one basis are one way.
  const same = row.ways.find((w) => w.legalBasis === way.legalBasis && sameJson(w.rules, way.rules) && sameJson(w.conditions, way.conditions) && sameJson(w.obligations, way.obligations) && sameJson(w.approvals, way.approvals));
  if (!same) row.ways.push({ ...way, purposes: [purpose] });
  else {
    add(same.purposes, purpose);
    same.purposes.sort();
  }
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** A condition in words: the rule and its effect, its `when` as written, the approvals it requires. */
export const conditionText = (x: MatrixCondition): string =>
  [`${x.rule} (${x.effect})`, ...(x.when === null || x.when === undefined ? [] : [`when ${JSON.stringify(x.when)}`]), ...(x.requires ? [`after approval ${x.requires.join(', ')}`] : [])].join(' ');

export type MatrixFormat = 'json' | 'md' | 'csv' | 'html';

/** The matrix as JSON, a Markdown table, CSV or a self-contained HTML page. */
export function renderMatrix(m: Matrix, format: MatrixFormat): string {
  if (format === 'json') return JSON.stringify(m);
  const head = ['provider', 'recipient', 'category', 'purposes', 'legal bases', 'rules', 'conditional', 'obligations by way', 'conditions'];
  const named = nameBesideId;
  const obligation = (o: Obligation): string => (o.type === 'retention' ? `retention ${o.days}d` : o.type === 'notify' ? `notify ${o.role}` : o.type);
  const cells = (r: MatrixRow): string[] => [
    named(r.names.provider, r.provider),
    named(r.names.recipient, r.recipient),
    named(r.names.category, r.category),
    r.purposes.join(' '),
    r.legalBases.join(' '),
    r.rules.join(' '),
    r.conditional ? 'yes' : 'no',
    r.ways
      .map((w) => `${w.legalBasis} for ${w.purposes.join(' ')}${w.approvals.length > 0 ? ` after approval ${w.approvals.join(', ')}` : ''}: ${w.obligations.length === 0 ? 'none' : w.obligations.map(obligation).join(', ')}`)
      .join('; '),
    r.conditions.map(conditionText).join('; '),
  ];
  // CRLF records, as RFC 4180 has them; a field with any line break is quoted.
  // Ids and names come from rule files: formulas are neutralised in CSV, and Markdown, which passes
  // HTML through, gets its special characters as entities.
  if (format === 'csv') return stringify([head, ...m.rows.map(cells)].map((row) => row.map(printable)), { record_delimiter: 'windows', quoted_match: /[\r\n]/, escape_formulas: true });
  if (format === 'md') {
    const esc = (s: string): string => printable(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
    return (
      `Covenant matrix at ${m.at} (${m.policyVersion})\n\n` +
      `| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|\n` +
      m.rows.map((r) => `| ${cells(r).map(esc).join(' | ')} |`).join('\n') +
      '\n'
    );
  }
  const h = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Covenant matrix at ${h(m.at)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#eee}tr.conditional td{background:#fff8e1}</style></head>
<body><h1>Covenant matrix</h1><p>At ${h(m.at)}; policy version <code>${h(m.policyVersion)}</code>; ${m.rows.length} permitted exchanges. Rows in yellow are conditional.</p>
<table><thead><tr>${head.map((x) => `<th>${h(x)}</th>`).join('')}</tr></thead><tbody>
${m.rows.map((r) => `<tr${r.conditional ? ' class="conditional"' : ''}>${cells(r).map((x) => `<td>${h(x)}</td>`).join('')}</tr>`).join('\n')}
</tbody></table></body></html>\n`;
}
