// Stage 2: cross-checks (CONTRACT 1.3) and the step from written items to compiled ones. Every id a
// rule or legal basis names must be defined, parents must exist, dates must be real and in order,
// and `when` must name known facts and operators.
import type { ApprovalKind, CovenantInfo, DataCategory, LegalBasis, Partner, Purpose, Rule } from '../domain/covenant.js';
import type { Diagnostic, Id, LocalizedText, Validity } from '../domain/types.js';
import { compileCondition } from '../conditions/index.js';
import type { Collected } from './collect.js';
import { parseInstant } from './time.js';
import { ancestors, diagnostic, type Located, type Path } from './source.js';

export interface Resolved {
  info: CovenantInfo;
  partners: Map<Id, Partner>;
  categories: Map<Id, DataCategory>;
  purposes: Map<Id, Purpose>;
  approvals: Map<Id, ApprovalKind>;
  legalBases: Map<Id, LegalBasis>;
  rules: Rule[];
}

type Known = { partners: Set<Id>; categories: Set<Id>; purposes: Set<Id>; approvals: Set<Id>; legalBases: Set<Id> };
const NOUN: Record<keyof Known, string> = {
  partners: 'partner',
  categories: 'data category',
  purposes: 'purpose',
  approvals: 'approval kind',
  legalBases: 'legal basis',
};

export function resolve(c: Collected, out: Diagnostic[]): Resolved | undefined {
  const known: Known = {
    partners: new Set(c.partners.map((p) => p.value.id)),
    categories: new Set(c.categories.map((p) => p.value.id)),
    purposes: new Set(c.purposes.map((p) => p.value.id)),
    approvals: new Set(c.approvals.map((p) => p.value.id)),
    legalBases: new Set(c.legalBases.map((p) => p.value.id)),
  };
  const refs = (item: Located<unknown>, field: string, list: readonly Id[] | undefined, kind: keyof Known): void => {
    list?.forEach((id, i) => {
      if (!known[kind].has(id) && !c.broken.has(id)) {
        out.push(
          diagnostic('error', 'unknown-reference', `unknown ${NOUN[kind]} \`${id}\`${suggest(id, known[kind])}`, {
            doc: item.doc,
            path: [...item.path, field, i],
          }),
        );
      }
    });
  };
  for (const [items, kind] of [
    [c.categories, 'categories'],
    [c.purposes, 'purposes'],
  ] as const) {
    for (const item of items) {
      const parent = ancestors(item.value.id)[0];
      if (parent !== undefined && !known[kind].has(parent) && !c.broken.has(parent)) {
        out.push(
          diagnostic('error', 'missing-parent', `${NOUN[kind]} \`${item.value.id}\` needs its parent \`${parent}\` to be defined`, {
            doc: item.doc,
            path: [...item.path, 'id'],
          }),
        );
      }
    }
  }

  const cov = c.covenant;
  const info: CovenantInfo | undefined = cov && {
    id: cov.value.id,
    title: cov.value.title ?? cov.value.id,
    validity: validity(cov, out),
  };

  const legalBases = new Map<Id, LegalBasis>();
  for (const item of c.legalBases) {
    const lb = item.value;
    if (lb.citation === undefined) out.push(diagnostic('warning', 'missing-citation', `legal basis \`${lb.id}\` has no citation; decisions will name its id instead`, { doc: item.doc, path: [...item.path, 'id'] }));
    refs(item, 'providers', lb.providers, 'partners');
    refs(item, 'categories', lb.categories, 'categories');
    refs(item, 'purposes', lb.purposes, 'purposes');
    refs(item, 'requires', lb.requires, 'approvals');
    legalBases.set(lb.id, {
      id: lb.id,
      citation: lb.citation ?? lb.id,
      ...(lb.requires && { requires: lb.requires }),
      providers: new Set(lb.providers),
      categories: lb.categories,
      ...(lb.purposes && { purposes: lb.purposes }),
      validity: validity(item, out),
    });
  }

  const rules: Rule[] = [];
  c.rules.forEach((item, order) => {
    const r = item.value;
    if (r.citation === undefined) out.push(diagnostic('warning', 'missing-citation', `rule \`${r.id}\` has no citation; decisions will cite its id instead`, { doc: item.doc, path: [...item.path, 'id'] }));
    refs(item, 'providers', r.providers, 'partners');
    refs(item, 'recipients', r.recipients, 'partners');
    refs(item, 'categories', r.categories, 'categories');
    refs(item, 'purposes', r.purposes, 'purposes');
    refs(item, 'legalBases', r.legalBases, 'legalBases');
    refs(item, 'requires', r.requires, 'approvals');
    // An approval enables an exchange; a deny that held only once someone had approved would
    // make the approval forbid it. Refused rather than given a meaning nobody wrote down.
    if (r.requires && r.effect === 'deny') {
      out.push(diagnostic('error', 'requires-on-deny', `rule \`${r.id}\` is a deny: only a permit rule can require an approval`, { doc: item.doc, path: [...item.path, 'requires'] }));
    }
    let when: Rule['when'];
    if (r.when !== undefined) {
      const compiled = compileCondition(r.when);
      if (compiled.ok) when = compiled.value;
      else {
        for (const p of compiled.error) {
          out.push(diagnostic('error', p.code, p.message, { doc: item.doc, path: [...item.path, 'when', ...p.path] }));
        }
      }
    }
    const pos = item.doc.locate(item.path);
    rules.push({
      id: r.id,
      order,
      citation: r.citation ?? r.id,
      effect: r.effect,
      ...(r.providers && { providers: new Set(r.providers) }),
      ...(r.recipients && { recipients: new Set(r.recipients) }),
      ...(r.categories && { categories: r.categories }),
      ...(r.purposes && { purposes: r.purposes }),
      ...(r.legalBases && { legalBases: new Set(r.legalBases) }),
      ...(r.requires && { requires: r.requires }),
      ...(when && { when }),
      obligations: r.obligations ?? [],
      validity: validity(item, out),
      ...(r.explanation !== undefined && { explanation: localized(r.explanation) }),
      source: { file: item.doc.file, ...(pos && { line: pos.line }) },
    });
  });

  if (!info || out.some((d) => d.severity === 'error')) return undefined;
  return {
    info,
    partners: new Map(c.partners.map(({ value: p }) => [p.id, { id: p.id, name: p.name ?? p.id }])),
    categories: new Map(
      c.categories.map(({ value: x }) => [x.id, { id: x.id, name: x.name ?? x.id, sensitivity: x.sensitivity ?? 'normal' }]),
    ),
    purposes: new Map(c.purposes.map(({ value: p }) => [p.id, { id: p.id, name: p.name ?? p.id }])),
    approvals: new Map(c.approvals.map(({ value: a }) => [a.id, { id: a.id, name: a.name ?? a.id, ...(a.citation !== undefined && { citation: a.citation }) }])),
    legalBases,
    rules,
  };
}

function validity(item: Located<{ validFrom?: string; validUntil?: string }>, out: Diagnostic[]): Validity {
  const at = (field: string): { doc: Located<unknown>['doc']; path: Path } => ({ doc: item.doc, path: [...item.path, field] });
  const { validFrom, validUntil } = item.value;
  const from = validFrom === undefined ? undefined : parseInstant(validFrom, 'from');
  const until = validUntil === undefined ? undefined : parseInstant(validUntil, 'until');
  if (validFrom !== undefined && from === undefined) {
    out.push(diagnostic('error', 'invalid-date', `\`${validFrom}\` is not a real date or date-time`, at('validFrom')));
  }
  if (validUntil !== undefined && until === undefined) {
    out.push(diagnostic('error', 'invalid-date', `\`${validUntil}\` is not a real date or date-time`, at('validUntil')));
  }
  if (from !== undefined && until !== undefined && from > until) {
    out.push(
      diagnostic('error', 'invalid-validity', `\`validFrom\` (${validFrom}) is after \`validUntil\` (${validUntil})`, at('validUntil')),
    );
  }
  return { ...(from !== undefined && { from }), ...(until !== undefined && { until }) };
}

const localized = (t: string | LocalizedText): LocalizedText => (typeof t === 'string' ? { nl: t, en: t } : t);

/** "did you mean" for a near-identical id: the usual typo is one edit away. */
function suggest(id: Id, known: Set<Id>): string {
  let best: Id | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = distance(id, k, bestDistance);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best === undefined ? '' : `; did you mean \`${best}\`?`;
}

function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? limit;
}
