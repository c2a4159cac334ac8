// For a category that no rule permitted: the permit rules that came closest, and exactly what
// kept each from applying, with the request's actual values. Not part of `reasons` (CONTRACT 2.3).
import type { Covenant, Rule, ScoredRule } from '../domain/covenant.js';
import type { CheckedRequest, Id, Miss, NearMiss } from '../domain/types.js';
import { explainCondition, type ConditionOutcome, type Facts } from '../conditions/index.js';
import { covers } from '../compile/source.js';
import { isoTime, within } from '../compile/time.js';
import { missMessage } from './messages.js';

/** How many near misses to show per category. */
const SHOW = 3;

/**
 * The permit rules that cover the category and miss the fewest fields (a `when` that does not
 * hold and a validity that does not include the time each count once), explained in words.
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
    const entry = { candidate, score: misses + Number(!within(rule.validity, t)) + Number(rule.when !== undefined && whenOf(rule) !== 'holds') };
    if (entry.score === 0 || (worst && !before(entry, worst))) continue;
    const at = best.findIndex((b) => before(entry, b));
    best.splice(at === -1 ? best.length : at, 0, entry);
    if (best.length > SHOW) best.pop();
  }
  return best.map(({ candidate }) => ({
    category,
    rule: candidate.rule.id,
    citation: candidate.rule.citation,
    misses: missesOf(candidate, r, t, facts, whenOf),
  }));
}

type Scored = { readonly candidate: ScoredRule; readonly score: number };

/** Closer first; among equally close rules, the one written first. */
const before = (a: Scored, b: Scored): boolean => a.score < b.score || (a.score === b.score && a.candidate.rule.order < b.candidate.rule.order);

function missesOf(candidate: ScoredRule, r: CheckedRequest, t: number, facts: Facts, whenOf: (rule: Rule) => ConditionOutcome): readonly Miss[] {
  const { rule } = candidate;
  const fixed = fixedMisses(candidate, r);
  const inTime = within(rule.validity, t);
  const holds = whenOf(rule) === 'holds';
  if (inTime && holds) return fixed;
  const misses: Miss[] = [...fixed];
  if (!inTime) {
    const from = rule.validity.from === undefined ? undefined : isoTime(rule.validity.from);
    const until = rule.validity.until === undefined ? undefined : isoTime(rule.validity.until);
    misses.push({
      field: 'validity',
      expected: { validFrom: from ?? null, validUntil: until ?? null },
      actual: isoTime(t),
      message: missMessage.validity(rule.citation, from, until, isoTime(t)),
    });
  }
  if (rule.when && !holds) {
    for (const leaf of explainCondition(rule.when, facts)) {
      const fact = leaf.path ? `${leaf.fact}${leaf.path.slice(1)}` : leaf.fact;
      misses.push({
        field: `when.${fact}`,
        expected: { operator: leaf.operator, value: leaf.expected },
        actual: leaf.actual,
        message: missMessage.condition(fact, leaf.operator, leaf.expected, leaf.actual),
      });
    }
  }
  return misses;
}

/** The misses on ids of each near candidate, which the index made for requests with these ids. */
const fixedOf = new WeakMap<ScoredRule, readonly Miss[]>();

/**
 * The misses on provider, recipient, legal basis and purpose. They follow from the ids alone, and
 * the index gives the same candidate object to every request with the same ids (a new one when
 * its memo starts over), so they are worked out once per candidate and shared, frozen.
 */
function fixedMisses(candidate: ScoredRule, r: CheckedRequest): readonly Miss[] {
  let misses = fixedOf.get(candidate);
  if (misses === undefined) fixedOf.set(candidate, (misses = Object.freeze(idMisses(candidate.rule, r).map((m) => Object.freeze(m)))));
  return misses;
}

function idMisses(rule: Rule, r: CheckedRequest): Miss[] {
  const misses: Miss[] = [];
  const field = (name: 'provider' | 'recipient' | 'legalBasis', allowed: ReadonlySet<Id> | undefined, actual: Id): void => {
    if (allowed && !allowed.has(actual)) {
      const expected = Object.freeze([...allowed]);
      misses.push({ field: name, expected, actual, message: Object.freeze(missMessage.field(rule.citation, name, expected, actual)) });
    }
  };
  field('provider', rule.providers, r.provider);
  field('recipient', rule.recipients, r.recipient);
  field('legalBasis', rule.legalBases, r.legalBasis);
  if (rule.purposes && !covers(rule.purposes, r.purpose)) {
    misses.push({
      field: 'purpose',
      expected: rule.purposes,
      actual: r.purpose,
      message: Object.freeze(missMessage.field(rule.citation, 'purpose', rule.purposes, r.purpose)),
    });
  }
  return misses;
}
