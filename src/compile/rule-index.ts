// The index that keeps a decision's cost independent of the number of rules: a rule is looked at
// only when it names (or leaves open) the request's category, provider, recipient, legal basis and
// purpose. Lists are memoised per key, since partner systems ask the same shapes of question again
// and again; the memo is bounded so that hostile key variety cannot grow memory without limit.
import type { Rule, RuleIndex, ScoredRule } from '../domain/covenant.js';
import type { Id } from '../domain/types.js';
import { ancestors, covers } from './source.js';
import { Memo } from './memo.js';

const MEMO_LIMIT = 50_000;

/** A memo of lists computed from ids (see Memo), bounded. */
function memo<A extends Id[], T>(compute: (...ids: A) => T): (...ids: A) => T {
  const cache = new Memo<T>(MEMO_LIMIT);
  return (...ids) => cache.get(ids, () => compute(...ids));
}

export function buildIndex(rules: readonly Rule[]): RuleIndex {
  const builder = indexBuilder();
  for (const rule of rules) builder.add(rule);
  return builder.done();
}

/**
 * The index taken rule by rule, for a covenant that arrives in parts: the service's thread files
 * each part as it comes instead of all 10,000 rules in one turn of its loop.
 */
export function indexBuilder(): { add(rule: Rule): void; done(): RuleIndex } {
  const byListedCategory = new Map<Id, Rule[]>();
  const anyCategory: Rule[] = [];
  const add = (rule: Rule): void => {
    if (!rule.categories) {
      anyCategory.push(rule);
      return;
    }
    for (const c of rule.categories) {
      const list = byListedCategory.get(c) ?? [];
      list.push(rule);
      byListedCategory.set(c, list);
    }
  };
  return { add, done: () => indexOf(byListedCategory, anyCategory) };
}

function indexOf(byListedCategory: ReadonlyMap<Id, readonly Rule[]>, anyCategory: readonly Rule[]): RuleIndex {
  const byCategory = memo((category: Id): readonly Rule[] => {
    const seen = new Set<Rule>(anyCategory);
    for (const c of [category, ...ancestors(category)]) for (const r of byListedCategory.get(c) ?? []) seen.add(r);
    return [...seen].sort((a, b) => a.order - b.order);
  });

  const candidates = memo((provider: Id, recipient: Id, legalBasis: Id, purpose: Id, category: Id): readonly Rule[] =>
    byCategory(category).filter((r) => matchesStatic(r, provider, recipient, legalBasis, purpose)),
  );

  const nearCandidates = memo((provider: Id, recipient: Id, legalBasis: Id, purpose: Id, category: Id): readonly ScoredRule[] => {
    const scored: ScoredRule[] = [];
    for (const rule of byCategory(category)) {
      if (rule.effect !== 'permit') continue;
      const misses =
        Number(rule.providers !== undefined && !rule.providers.has(provider)) +
        Number(rule.recipients !== undefined && !rule.recipients.has(recipient)) +
        Number(rule.legalBases !== undefined && !rule.legalBases.has(legalBasis)) +
        Number(rule.purposes !== undefined && !covers(rule.purposes, purpose));
      if (misses <= NEAR) scored.push({ rule, misses });
    }
    return scored.sort((a, b) => a.misses - b.misses || a.rule.order - b.rule.order);
  });

  return { candidates, byCategory, nearCandidates };
}

/** A permit rule is "near" a request when it misses at most this many of its fields. */
const NEAR = 2;

/** The parts of CONTRACT 2.2(4) that do not depend on time or `when`, for one category. */
export function matchesStatic(rule: Rule, provider: Id, recipient: Id, legalBasis: Id, purpose: Id): boolean {
  return (
    (!rule.providers || rule.providers.has(provider)) &&
    (!rule.recipients || rule.recipients.has(recipient)) &&
    (!rule.legalBases || rule.legalBases.has(legalBasis)) &&
    (!rule.purposes || covers(rule.purposes, purpose))
  );
}
