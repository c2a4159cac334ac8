// For a category that no rule permitted: the permit rules that came closest, and exactly what
// kept each from applying, with the request's actual values. Not part of `reasons` (CONTRACT 2.3).
import type { Covenant, Rule } from '../domain/covenant.js';
import type { CheckedRequest, Id, Miss, NearMiss } from '../domain/types.js';
import { explainCondition, evaluateCondition, type ConditionOutcome, type Facts } from '../conditions/index.js';
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
  const best: { rule: Rule; score: number }[] = [];
  // closer first; among equally close rules, the one written first
  const before = (a: { rule: Rule; score: number }, b: { rule: Rule; score: number }): boolean =>
    a.score < b.score || (a.score === b.score && a.rule.order < b.rule.order);
  for (const { rule, misses } of c.index.nearCandidates(r.provider, r.recipient, r.legalBasis, r.purpose, category)) {
    const worst = best.length === SHOW ? best[SHOW - 1] : undefined;
    // INVARIANT: candidates come sorted by static misses, so once those alone exceed the worst
    // kept score, no later candidate can get in.
    if (worst && misses > worst.score) break;
    const entry = { rule, score: misses + Number(!within(rule.validity, t)) + Number(rule.when !== undefined && whenOf(rule) !== 'holds') };
    if (entry.score === 0 || (worst && !before(entry, worst))) continue;
    const at = best.findIndex((b) => before(entry, b));
    best.splice(at === -1 ? best.length : at, 0, entry);
    if (best.length > SHOW) best.pop();
  }
  return best.map(({ rule }) => ({ category, rule: rule.id, citation: rule.citation, misses: missesOf(rule, r, t, facts) }));
}

function missesOf(rule: Rule, r: CheckedRequest, t: number, facts: Facts): Miss[] {
  const misses: Miss[] = [];
  const field = (name: 'provider' | 'recipient' | 'legalBasis', allowed: ReadonlySet<Id> | undefined, actual: Id): void => {
    if (allowed && !allowed.has(actual)) {
      const expected = [...allowed];
      misses.push({ field: name, expected, actual, message: missMessage.field(rule.citation, name, expected, actual) });
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
      message: missMessage.field(rule.citation, 'purpose', rule.purposes, r.purpose),
    });
  }
  if (!within(rule.validity, t)) {
    const from = rule.validity.from === undefined ? undefined : isoTime(rule.validity.from);
    const until = rule.validity.until === undefined ? undefined : isoTime(rule.validity.until);
    misses.push({
      field: 'validity',
      expected: { validFrom: from ?? null, validUntil: until ?? null },
      actual: isoTime(t),
      message: missMessage.validity(rule.citation, from, until, isoTime(t)),
    });
  }
  if (rule.when && evaluateCondition(rule.when, facts) !== 'holds') {
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
