// For a category that no rule permitted: the permit rules that came closest, and exactly what
// kept each from applying, with the request's actual values. Not part of `reasons` (CONTRACT 2.3).
import type { Covenant, Rule, ScoredRule } from '../domain/covenant.js';
import type { CheckedRequest, Id, Miss, NearMiss } from '../domain/types.js';
import { explainCondition, type ConditionOutcome, type Facts } from '../conditions/index.js';
import { covers } from '../compile/source.js';
import { within } from '../compile/time.js';
import { missMessage } from './messages.js';

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
): NearMiss[] {
  const best: Scored[] = [];
  for (const candidate of c.index.nearCandidates(r.provider, r.recipient, r.legalBasis, r.purpose, category)) {
    const { rule, misses } = candidate;
    const worst = best.length === SHOW ? best[SHOW - 1] : undefined;
    // INVARIANT: candidates come sorted by static misses, so once those alone exceed the worst
    // kept score, no later candidate can get in.
    if (worst && misses > worst.score) break;
    if (!within(rule.validity, t)) continue;
    if (rule.legalBases && !rule.legalBases.has(r.legalBasis) && usableBases(c, rule.legalBases, r, category, t).length === 0) continue;
    const entry = { candidate, score: misses + Number(rule.when !== undefined && whenOf(rule) !== 'holds') };
    if (entry.score === 0 || (worst && !before(entry, worst))) continue;
    const at = best.findIndex((b) => before(entry, b));
    best.splice(at === -1 ? best.length : at, 0, entry);
    if (best.length > SHOW) best.pop();
  }
  return best.map(({ candidate }) => ({
    category,
    rule: candidate.rule.id,
    citation: candidate.rule.citation,
    misses: missesOf(c, candidate, r, category, t, facts, whenOf),
  }));
}

/** The bases among `ids` that this provider could invoke for this purpose and category at `t`. */
function usableBases(c: Covenant, ids: ReadonlySet<Id>, r: CheckedRequest, category: Id, t: number): Id[] {
  return [...ids].filter((id) => {
    const lb = c.legalBases.get(id);
    return lb !== undefined && within(lb.validity, t) && lb.providers.has(r.provider) && (!lb.purposes || covers(lb.purposes, r.purpose)) && covers(lb.categories, category);
  });
}

type Scored = { readonly candidate: ScoredRule; readonly score: number };

/** Closer first; among equally close rules, the one written first. */
const before = (a: Scored, b: Scored): boolean => a.score < b.score || (a.score === b.score && a.candidate.rule.order < b.candidate.rule.order);

function missesOf(c: Covenant, candidate: ScoredRule, r: CheckedRequest, category: Id, t: number, facts: Facts, whenOf: (rule: Rule) => ConditionOutcome): readonly Miss[] {
  const { rule } = candidate;
  const fixed = fixedMisses(c, candidate, r);
  const holds = whenOf(rule) === 'holds';
  const basisMissed = rule.legalBases !== undefined && !rule.legalBases.has(r.legalBasis);
  if (holds && !basisMissed) return fixed;
  const misses: Miss[] = [...fixed];
  if (rule.legalBases && basisMissed) {
    // only the bases the provider could invoke now, for this purpose and category
    const expected = usableBases(c, rule.legalBases, r, category, t);
    misses.push({ field: 'legalBasis', expected, actual: r.legalBasis, message: missMessage.field(c, rule.citation, 'legalBasis', expected, r.legalBasis) });
  }
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

/** The misses on provider, recipient and purpose of each near candidate, which the index made for requests with these ids. */
const fixedOf = new WeakMap<ScoredRule, readonly Miss[]>();

/**
 * The misses on provider, recipient and purpose (the legal basis's depends on the time too). They
 * follow from the ids alone, and
 * the index gives the same candidate object to every request with the same ids (a new one when
 * its memo starts over), so they are worked out once per candidate and shared, frozen.
 */
function fixedMisses(c: Covenant, candidate: ScoredRule, r: CheckedRequest): readonly Miss[] {
  let misses = fixedOf.get(candidate);
  if (misses === undefined) fixedOf.set(candidate, (misses = Object.freeze(idMisses(c, candidate.rule, r).map((m) => Object.freeze(m)))));
  return misses;
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
