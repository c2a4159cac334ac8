// Stage 3: what a privacy officer wants to know although the files are valid. Warnings never
// block loading; they point at rules that cannot do what their author meant.
import type { LegalBasis, Rule } from '../domain/covenant.js';
import type { Diagnostic, Id, ParsedDocument, Validity } from '../domain/types.js';
import type { Collected } from './collect.js';
import type { Resolved } from './resolve.js';
import { overlaps, isoTime } from './time.js';
import { covers, diagnostic, type Located, type Path } from './source.js';

/** Two hierarchical lists meet when some id of one equals, or descends from, some id of the other. */
const meet = (a: readonly Id[] | undefined, b: readonly Id[] | undefined): boolean =>
  !a || !b || a.some((x) => covers(b, x)) || b.some((y) => covers(a, y));

function intersects(a: ReadonlySet<Id> | undefined, b: ReadonlySet<Id>): boolean {
  if (!a) return true;
  for (const x of b) if (a.has(x)) return true;
  return false;
}

/** Legal bases that a rule's providers may invoke, for its purposes, at some time it is valid. */
function usableBases(rule: Rule, r: Resolved): LegalBasis[] {
  return [...r.legalBases.values()].filter(
    (lb) =>
      (!rule.legalBases || rule.legalBases.has(lb.id)) &&
      intersects(rule.providers, lb.providers) &&
      meet(rule.purposes, lb.purposes) &&
      overlaps(rule.validity, lb.validity) &&
      overlaps(lb.validity, r.info.validity),
  );
}

export function analyse(c: Collected, r: Resolved, now: number | undefined, out: Diagnostic[]): void {
  const at = (item: Located<unknown>, path: Path = ['id']): { doc: ParsedDocument; path: Path } => ({
    doc: item.doc,
    path: [...item.path, ...path],
  });
  const ruleItem = new Map(c.rules.map((i) => [i.value.id, i]));
  // Only a deny without a condition can shadow a permit: picked out once, not for every permit (a
  // covenant of 10,000 rules spent 3.4 s of its 7.4 s load looking through every rule for each).
  const unconditionalDenies = r.rules.filter((d) => d.effect === 'deny' && d.when === undefined);

  for (const rule of r.rules) {
    const item = ruleItem.get(rule.id);
    if (!item) continue;
    const warn = (code: string, message: string, path?: Path): void => {
      out.push(diagnostic('warning', code, message, at(item, path)));
    };
    if (!overlaps(rule.validity, r.info.validity)) {
      warn('rule-never-applies', `rule \`${rule.id}\` is valid only outside the covenant's validity`);
      continue;
    }
    const bases = usableBases(rule, r);
    if (bases.length === 0) {
      warn(
        'rule-never-applies',
        `rule \`${rule.id}\` can never apply: no legal basis it allows is available to its providers for its purposes while both are valid`,
      );
      continue;
    }
    rule.categories?.forEach((cat, i) => {
      if (!bases.some((lb) => meet([cat], lb.categories))) {
        warn(
          'category-never-applies',
          `rule \`${rule.id}\` names category \`${cat}\`, which no legal basis it allows covers`,
          ['categories', i],
        );
      }
    });
    if (rule.effect === 'deny' && rule.obligations.length > 0) {
      warn('obligations-on-deny', `rule \`${rule.id}\` denies, so its obligations are never issued`, ['obligations']);
    }
    if (rule.effect === 'permit') {
      const shadow = unconditionalDenies.find((d) => shadows(d, rule));
      if (shadow) {
        warn('permit-shadowed', `permit rule \`${rule.id}\` never permits anything: deny rule \`${shadow.id}\` always overrides it`);
      }
    }
  }

  const lbItem = new Map(c.legalBases.map((i) => [i.value.id, i]));
  for (const lb of r.legalBases.values()) {
    const used = r.rules.some(
      (rule) =>
        rule.effect === 'permit' &&
        (rule.legalBases ? rule.legalBases.has(lb.id) : intersects(rule.providers, lb.providers) && meet(rule.categories, lb.categories)),
    );
    const item = lbItem.get(lb.id);
    if (!used && item) {
      out.push(diagnostic('warning', 'unused-legal-basis', `no permit rule can use legal basis \`${lb.id}\``, at(item)));
    }
  }

  if (now === undefined) return;
  const expired = (v: Validity): boolean => v.until !== undefined && v.until < now;
  if (c.covenant && expired(r.info.validity)) {
    out.push(
      diagnostic('warning', 'expired', `the covenant expired on ${isoTime(r.info.validity.until ?? 0)}; every request is denied`, at(c.covenant, ['validUntil'])),
    );
  }
  for (const lb of r.legalBases.values()) {
    const item = lbItem.get(lb.id);
    if (item && expired(lb.validity)) {
      out.push(diagnostic('warning', 'expired', `legal basis \`${lb.id}\` has expired`, at(item, ['validUntil'])));
    }
  }
  for (const rule of r.rules) {
    const item = ruleItem.get(rule.id);
    if (item && expired(rule.validity)) {
      out.push(diagnostic('warning', 'expired', `rule \`${rule.id}\` has expired`, at(item, ['validUntil'])));
    }
  }
}

/** Whether a deny's set (absent: any) holds every member of a permit's (absent: any). */
function setCovers(d: ReadonlySet<Id> | undefined, p: ReadonlySet<Id> | undefined): boolean {
  if (!d) return true;
  if (!p) return false;
  for (const x of p) if (!d.has(x)) return false;
  return true;
}

const listCovers = (d: readonly Id[] | undefined, p: readonly Id[] | undefined): boolean => !d || (p !== undefined && p.every((x) => covers(d, x)));
const from = (v: Validity): number => v.from ?? -Infinity;
const until = (v: Validity): number => v.until ?? Infinity;

/** A deny rule without a condition that applies wherever the permit rule does. */
function shadows(deny: Rule, permit: Rule): boolean {
  return (
    deny.when === undefined &&
    setCovers(deny.providers, permit.providers) &&
    setCovers(deny.recipients, permit.recipients) &&
    setCovers(deny.legalBases, permit.legalBases) &&
    listCovers(deny.categories, permit.categories) &&
    listCovers(deny.purposes, permit.purposes) &&
    from(deny.validity) <= from(permit.validity) &&
    until(deny.validity) >= until(permit.validity)
  );
}
