// The covenant matrix: who may share which category with whom at a date, for which purposes, on
// which legal bases, under which conditions and obligations, derived from the rules and legal
// bases, never written by hand.
import type { Covenant, LegalBasis, Rule } from '../domain/covenant.js';
import type { Id, Obligation } from '../domain/types.js';
import { covers } from '../compile/source.js';
import { within } from '../compile/time.js';
import { mergeObligations } from './obligations.js';
import { stringify } from 'csv-stringify/sync';
import { printable } from '../domain/text.js';

export interface MatrixRow {
  provider: Id;
  recipient: Id;
  category: Id;
  purposes: Id[];
  legalBases: Id[];
  rules: Id[];
  /** true when a `when` must hold, or a deny rule may apply, for the exchange to be permitted */
  conditional: boolean;
  obligations: Obligation[];
  /** the `when` clauses and deny rules that make the row conditional */
  conditions: { rule: Id; effect: 'permit' | 'deny'; when?: unknown }[];
}

export interface Matrix {
  at: string;
  policyVersion: string;
  rows: MatrixRow[];
}

/** The more specific of two hierarchical ids when one covers the other, else none. */
const meet = (a: Id, b: Id): Id | undefined => (covers([a], b) ? b : covers([b], a) ? a : undefined);

/** The purposes both lists allow, as the narrowest ids; `undefined` means any purpose. */
function purposesOf(rule: readonly Id[] | undefined, lb: readonly Id[] | undefined): Id[] | undefined {
  if (!rule) return lb && [...lb];
  if (!lb) return [...rule];
  return [...new Set(rule.flatMap((r) => lb.map((l) => meet(r, l)).filter((x): x is Id => x !== undefined)))];
}

export function buildMatrix(c: Covenant, at: number): Matrix {
  const partners = [...c.partners.keys()];
  const roots = [...c.purposes.keys()].filter((p) => !p.includes('.'));
  const bases = [...c.legalBases.values()].filter((lb) => within(lb.validity, at));
  const inForce = (r: Rule): boolean => within(r.validity, at) && within(c.info.validity, at);
  const denies = c.rules.filter((r) => r.effect === 'deny' && inForce(r));
  const rows = new Map<string, MatrixRow>();

  for (const rule of c.rules) {
    if (rule.effect !== 'permit' || !inForce(rule)) continue;
    for (const lb of bases) {
      if (rule.legalBases && !rule.legalBases.has(lb.id)) continue;
      const purposes = purposesOf(rule.purposes, lb.purposes) ?? roots;
      if (purposes.length === 0) continue;
      const categories = [...new Set((rule.categories ?? lb.categories).flatMap((rc) => lb.categories.map((lc) => meet(rc, lc)).filter((x): x is Id => x !== undefined)))];
      for (const provider of rule.providers ? [...rule.providers] : partners) {
        if (!lb.providers.has(provider)) continue;
        for (const recipient of rule.recipients ? [...rule.recipients] : partners) {
          if (recipient === provider) continue;
          for (const category of categories) addRow(rows, { rule, lb, provider, recipient, category, purposes }, denies);
        }
      }
    }
  }
  const sorted = [...rows.values()].sort(
    (a, b) => a.provider.localeCompare(b.provider) || a.recipient.localeCompare(b.recipient) || a.category.localeCompare(b.category),
  );
  return { at: new Date(at).toISOString(), policyVersion: c.policyVersion, rows: sorted };
}

interface Path {
  rule: Rule;
  lb: LegalBasis;
  provider: Id;
  recipient: Id;
  category: Id;
  purposes: Id[];
}

function addRow(rows: Map<string, MatrixRow>, p: Path, denies: readonly Rule[]): void {
  // Deny rules that could apply to this path: those that leave it entirely to the deny are dropped;
  // those that may apply (a `when`, or only some purposes or subcategories) make it conditional.
  const touching = denies.filter(
    (d) =>
      (!d.providers || d.providers.has(p.provider)) &&
      (!d.recipients || d.recipients.has(p.recipient)) &&
      (!d.legalBases || d.legalBases.has(p.lb.id)) &&
      (!d.categories || d.categories.some((x) => meet(x, p.category) !== undefined)) &&
      (!d.purposes || d.purposes.some((x) => p.purposes.some((y) => meet(x, y) !== undefined))),
  );
  const total = touching.find(
    (d) => !d.when && (!d.categories || covers(d.categories, p.category)) && (!d.purposes || p.purposes.every((y) => covers(d.purposes ?? [], y))),
  );
  if (total) return;
  const key = `${p.provider}\u0000${p.recipient}\u0000${p.category}`;
  const row = rows.get(key) ?? {
    provider: p.provider,
    recipient: p.recipient,
    category: p.category,
    purposes: [],
    legalBases: [],
    rules: [],
    conditional: true,
    obligations: [],
    conditions: [],
  };
  const union = (a: Id[], b: readonly Id[]): Id[] => [...new Set([...a, ...b])].sort();
  row.purposes = union(row.purposes, p.purposes);
  row.legalBases = union(row.legalBases, [p.lb.id]);
  if (!row.rules.includes(p.rule.id)) row.rules.push(p.rule.id);
  row.obligations = mergeObligations([...row.obligations, ...p.rule.obligations]);
  const conditions = [...(p.rule.when ? [{ rule: p.rule.id, effect: 'permit' as const, when: p.rule.when.source }] : []), ...touching.map((d) => ({ rule: d.id, effect: 'deny' as const, ...(d.when && { when: d.when.source }) }))];
  for (const cond of conditions) if (!row.conditions.some((x) => x.rule === cond.rule)) row.conditions.push(cond);
  // One unconditional way through (no `when`, no deny that may apply) makes the row unconditional.
  if (!p.rule.when && touching.length === 0) row.conditional = false;
  rows.set(key, row);
}

/** The matrix as a Markdown table, CSV or a self-contained HTML page. */
export function renderMatrix(m: Matrix, format: 'md' | 'csv' | 'html'): string {
  const head = ['provider', 'recipient', 'category', 'purposes', 'legal bases', 'rules', 'conditional', 'obligations'];
  const cells = (r: MatrixRow): string[] => [
    r.provider,
    r.recipient,
    r.category,
    r.purposes.join(' '),
    r.legalBases.join(' '),
    r.rules.join(' '),
    r.conditional ? 'yes' : 'no',
    r.obligations.map((o) => (o.type === 'retention' ? `retention ${o.days}d` : o.type === 'notify' ? `notify ${o.role}` : o.type)).join('; '),
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
