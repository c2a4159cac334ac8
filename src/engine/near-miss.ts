// For a category that no rule permitted: the permit rules that came closest, and exactly what
// kept each from applying, with the request's actual values. Not part of `reasons` (CONTRACT 2.3).
import type { Covenant, Rule } from '../domain/covenant.js';
import type { CheckedRequest, Id, Miss, NearMiss } from '../domain/types.js';
import { explainCondition, evaluateCondition, type Facts } from '../conditions/index.js';
import { covers } from '../compile/source.js';
import { isoTime, within } from '../compile/time.js';
import { missMessage } from './messages.js';

/** How many near misses to show per category, and how many rules to look at to find them. */
const SHOW = 3;
// INVARIANT: bounds the cost of explaining a denial on a covenant with very many rules; the rules
// beyond it are the least specific (index order), so the closest ones are seldom among them.
const SCAN_LIMIT = 5_000;

export function nearMisses(c: Covenant, r: CheckedRequest, category: Id, t: number, facts: Facts): NearMiss[] {
  const scored: { rule: Rule; misses: Miss[] }[] = [];
  const rules = c.index.byCategory(category);
  for (let i = 0; i < rules.length && i < SCAN_LIMIT; i++) {
    const rule = rules[i] as Rule;
    if (rule.effect !== 'permit') continue;
    const misses = missesOf(rule, r, t, facts);
    if (misses.length > 0) scored.push({ rule, misses });
  }
  scored.sort((a, b) => a.misses.length - b.misses.length || a.rule.order - b.rule.order);
  return scored.slice(0, SHOW).map(({ rule, misses }) => ({ category, rule: rule.id, citation: rule.citation, misses }));
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
