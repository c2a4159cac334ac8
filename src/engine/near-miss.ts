// For a category that no rule permitted: the permit rules that came closest, and exactly what
// kept each from applying, with the request's actual values. Not part of `reasons` (CONTRACT 2.3).
import type { Covenant, Rule, ScoredRule } from '../domain/covenant.js';
import type { CheckedRequest, Id, Miss, NearMiss } from '../domain/types.js';
import { explainCondition, type ConditionOutcome, type Facts } from '../conditions/index.js';
import { covers } from '../compile/source.js';
import { within } from '../compile/time.js';
import { missMessage } from './messages.js';
import { missingApprovals } from './approvals.js';

/** How many near misses to show per category. */
const SHOW = 3;

/**
 * The permit rules that cover the category and miss the fewest fields (a `when` that does not
 * hold counts once), explained in words. A near miss is advice on what to change, so it never
 * points at what could not be used at that instant: a rule out of force, or a rule whose legal
 * bases are all out of force, unavailable to the provider, or not covering the purpose or category.
 */
export function nearMisses(
  c: Covenant,
  r: CheckedRequest,
  category: Id,
  t: number,
  facts: Facts,
  whenOf: (rule: Rule) => ConditionOutcome,
  approvals: ReadonlySet<Id> = new Set(),
): NearMiss[] {
  const best: Scored[] = [];
  for (const candidate of c.index.nearCandidates(r.provider, r.recipient, r.legalBasis, r.purpose, category)) {
    const { rule, misses } = candidate;
    const worst = best.length === SHOW ? best[SHOW - 1] : undefined;
    // INVARIANT: candidates come sorted by static misses, so once those alone exceed the worst
    // kept score, no later candidate can get in.
    if (worst && misses > worst.score) break;
    if (!within(rule.validity, t)) continue;
    const fixed = fixedOf(c, candidate, r, category);
    const basis = basisMiss(c, fixed, r, t);
    if (basis === null) continue;
    const lacking = missingApprovals(rule.requires, approvals);
    const entry = { candidate, fixed, basis, lacking, score: misses + Number(rule.when !== undefined && whenOf(rule) !== 'holds') + Number(lacking.length > 0) };
    if (entry.score === 0 || (worst && !before(entry, worst))) continue;
    const at = best.findIndex((b) => before(entry, b));
    best.splice(at === -1 ? best.length : at, 0, entry);
    if (best.length > SHOW) best.pop();
  }
  return best.map(({ candidate, fixed, basis, lacking }) => {
    const misses = missesOf(candidate.rule, fixed, basis, facts, whenOf);
    const approvalMiss: Miss[] =
      lacking.length === 0 ? [] : [{ field: 'approvals', expected: lacking, actual: [...approvals].sort(), message: missMessage.approvals(c, candidate.rule.citation, lacking, r.caseReference) }];
    return { category, rule: candidate.rule.id, citation: candidate.rule.citation, misses: approvalMiss.length === 0 ? misses : [...misses, ...approvalMiss] };
  });
}

/**
 * The miss on the legal basis at `t`: none when the rule takes the request's basis; null when
 * none of its bases could be used then (the rule is no advice); else the miss naming those that
 * could. Usually every basis the ids allow is in force, and the miss worked out once is shared.
 */
function basisMiss(c: Covenant, fixed: Fixed, r: CheckedRequest, t: number): Miss | undefined | null {
  if (!fixed.basis) return undefined;
  const { ids, miss, citation } = fixed.basis;
  const now = ids.filter((id) => within(c.legalBases.get(id)?.validity ?? {}, t));
  if (now.length === ids.length) return ids.length === 0 ? null : miss;
  if (now.length === 0) return null;
  return Object.freeze({ field: 'legalBasis', expected: Object.freeze(now), actual: r.legalBasis, message: Object.freeze(missMessage.field(c, citation, 'legalBasis', now, r.legalBasis)) });
}

type Scored = { readonly candidate: ScoredRule; readonly fixed: Fixed; readonly basis: Miss | undefined; readonly lacking: readonly Id[]; readonly score: number };

/** Closer first; among equally close rules, the one written first. */
const before = (a: Scored, b: Scored): boolean => a.score < b.score || (a.score === b.score && a.candidate.rule.order < b.candidate.rule.order);

function missesOf(rule: Rule, fixed: Fixed, basis: Miss | undefined, facts: Facts, whenOf: (rule: Rule) => ConditionOutcome): readonly Miss[] {
  const holds = whenOf(rule) === 'holds';
  if (holds && !basis) return fixed.misses;
  const misses: Miss[] = [...fixed.misses];
  if (basis) misses.push(basis);
  if (rule.when && !holds) {
    for (const leaf of explainCondition(rule.when, facts)) {
      const fact = leaf.path ? `${leaf.fact}${leaf.path.slice(1)}` : leaf.fact;
      misses.push({
        field: `when.${fact}`,
        expected: { operator: leaf.operator, value: leaf.expected },
        actual: leaf.actual,
        message: missMessage.condition(rule.citation, fact, leaf.operator, leaf.expected, leaf.actual),
      });
    }
  }
  return misses;
}

/**
 * What follows from a near candidate's ids alone: its misses on provider, recipient and purpose,
 * and, when it misses the legal basis, the bases of the rule that this provider could invoke for
 * this purpose and category, time aside. The index gives the same candidate object to every
 * request with the same ids (a new one when its memo starts over), so this is worked out once per
 * candidate and shared, frozen.
 */
interface Fixed {
  readonly misses: readonly Miss[];
  readonly basis?: { readonly ids: readonly Id[]; readonly miss: Miss; readonly citation: string };
}

const fixedMemo = new WeakMap<ScoredRule, Fixed>();

function fixedOf(c: Covenant, candidate: ScoredRule, r: CheckedRequest, category: Id): Fixed {
  let fixed = fixedMemo.get(candidate);
  if (fixed === undefined) {
    const { rule } = candidate;
    const misses = Object.freeze(idMisses(c, rule, r).map((m) => Object.freeze(m)));
    let basis: Fixed['basis'];
    if (rule.legalBases && !rule.legalBases.has(r.legalBasis)) {
      const ids = Object.freeze(
        [...rule.legalBases].filter((id) => {
          const lb = c.legalBases.get(id);
          return lb !== undefined && lb.providers.has(r.provider) && (!lb.purposes || covers(lb.purposes, r.purpose)) && covers(lb.categories, category);
        }),
      );
      const miss = Object.freeze({ field: 'legalBasis', expected: ids, actual: r.legalBasis, message: Object.freeze(missMessage.field(c, rule.citation, 'legalBasis', ids, r.legalBasis)) });
      basis = { ids, miss, citation: rule.citation };
    }
    fixedMemo.set(candidate, (fixed = Object.freeze({ misses, ...(basis && { basis }) })));
  }
  return fixed;
}

function idMisses(c: Covenant, rule: Rule, r: CheckedRequest): Miss[] {
  const misses: Miss[] = [];
  const field = (name: 'provider' | 'recipient', allowed: ReadonlySet<Id> | undefined, actual: Id): void => {
    if (allowed && !allowed.has(actual)) {
      const expected = Object.freeze([...allowed]);
      misses.push({ field: name, expected, actual, message: Object.freeze(missMessage.field(c, rule.citation, name, expected, actual)) });
    }
  };
  field('provider', rule.providers, r.provider);
  field('recipient', rule.recipients, r.recipient);
  if (rule.purposes && !covers(rule.purposes, r.purpose)) {
    misses.push({
      field: 'purpose',
      expected: rule.purposes,
      actual: r.purpose,
      message: Object.freeze(missMessage.field(c, rule.citation, 'purpose', rule.purposes, r.purpose)),
    });
  }
  return misses;
}
