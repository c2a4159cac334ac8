// CONTRACT 2.2(5)-(6) and 2.3: what follows once it is known which rules applied to which
// category: the decision, its reasons in Dutch and English, and the merged obligations.
//
// That part depends on ids alone, never on facts or time (those decide which rules apply, and
// they are evaluated for every request). Partner systems ask the same questions again and again,
// so a verdict is worked out once per policy version and shared, frozen, with its JSON text: the
// messages, the merging and most of the serialising are then done once instead of per decision.
import type { Covenant, LegalBasis } from '../domain/covenant.js';
import type { CategoryDecision, CheckedRequest, Decision, DenialCode, Effect, Id, Obligation, Reason, RequestLevelCode } from '../domain/types.js';
import { jsonString } from '../domain/json.js';
import { reasonMessage, type MessageParams } from './messages.js';
import { mergeObligations } from './obligations.js';
import { Memo, type MemoKey } from '../compile/memo.js';
import { missingApprovals } from './approvals.js';

export interface Verdict {
  readonly decision: Effect;
  readonly categories: readonly CategoryDecision[];
  readonly reasons: readonly Reason[];
  readonly obligations: readonly Obligation[];
  /** the categories no rule permitted (`no-permitting-rule`): those that near misses explain */
  readonly unpermitted: readonly Id[];
  /** `"decision":…,"categories":…,"reasons":…,"obligations":…`, as JSON.stringify writes them */
  readonly json: string;
}

/** Verdicts kept per covenant; hostile variety (many category lists) makes it start over, not grow. */
const MEMO_LIMIT = 10_000;
const memos = new WeakMap<Covenant, Memo<Verdict>>();
/** each shared verdict by its `categories`, which a decision carries unchanged: see decisionJson */
const byCategories = new WeakMap<readonly CategoryDecision[], Verdict>();

/**
 * The verdict for categories decided as `categories` (after request-level `failures`). Equal
 * inputs give the same frozen object; `categories` itself is only read.
 */
export function verdictOf(
  c: Covenant,
  r: CheckedRequest,
  lb: LegalBasis,
  failures: readonly RequestLevelCode[],
  categories: readonly CategoryDecision[],
  at: number,
  approvals: ReadonlySet<Id> = new Set(),
): Verdict {
  // The reasons of a request out of time name the instant evaluated, and those of a missing
  // approval the case and the kinds it lacks, so they are made for each request; such requests
  // are rare. Every other verdict follows from the ids and is shared (making each anew, names and
  // all, had halved the decisions a second where a third of the requests named a basis their
  // provider may not invoke).
  const awaiting = failures.includes('approval-required') || categories.some((d) => d.decision === 'deny' && d.reason === 'approval-required');
  if (awaiting || failures.some(namesInstant)) return shared(makeVerdict(c, r, lb, failures, categories, at, approvals));
  let memo = memos.get(c);
  if (!memo) memos.set(c, (memo = new Memo(MEMO_LIMIT)));
  return memo.get(keyOf(r, failures, categories), () => shared(makeVerdict(c, r, lb, failures, categories, at, approvals)));
}

const namesInstant = (code: RequestLevelCode): boolean => code === 'covenant-not-in-force' || code === 'legal-basis-not-in-force';

/** Frozen, and known by its categories to decisionJson. */
function shared(v: Verdict): Verdict {
  const verdict = deepFreeze(v);
  byCategories.set(verdict.categories, verdict);
  return verdict;
}

/**
 * A decision's JSON text, equal to JSON.stringify(decision) for a decision made as
 * `{ decisionId, ...evaluate() }` (its members in that order, none added): the verdict's part comes
 * ready-made when the decision carries a shared verdict unchanged.
 */
export function decisionJson(d: Decision): string {
  const v = byCategories.get(d.categories);
  if (v === undefined || v.reasons !== d.reasons || v.obligations !== d.obligations || v.decision !== d.decision) return JSON.stringify(d);
  const q = jsonString;
  const nearMisses = d.nearMisses.length === 0 ? '[]' : JSON.stringify(d.nearMisses);
  return `{"decisionId":${q(d.decisionId)},${v.json},"nearMisses":${nearMisses},"policyVersion":${q(d.policyVersion)},"evaluatedAt":${q(d.evaluatedAt)}}`;
}

/** Everything a verdict follows from; the counts say how many ids follow each, so no key is a prefix of another. */
function keyOf(r: CheckedRequest, failures: readonly RequestLevelCode[], categories: readonly CategoryDecision[]): MemoKey {
  const key: (string | number)[] = [r.provider, r.recipient, r.purpose, r.legalBasis, failures.length, ...failures, categories.length];
  for (const d of categories) key.push(d.category, d.decision === 'permit' ? d.decision : d.reason, d.rules.length, ...d.rules);
  return key;
}

function makeVerdict(
  c: Covenant,
  r: CheckedRequest,
  lb: LegalBasis,
  failures: readonly RequestLevelCode[],
  categories: readonly CategoryDecision[],
  at: number,
  approvals: ReadonlySet<Id>,
): Verdict {
  const base: MessageParams = { covenant: c, request: r, at };
  const decision: Effect = categories.every((d) => d.decision === 'permit') ? 'permit' : 'deny';
  const shared = {
    decision,
    categories: categories.map(copyOf),
    reasons: explainReasons(c, lb, failures, categories, base, approvals),
    obligations:
      decision === 'permit' ? mergeObligations(categories.flatMap((d) => d.rules.flatMap((id) => c.rulesById.get(id)?.obligations ?? []))) : [],
  };
  const unpermitted = categories.filter((d) => d.decision === 'deny' && d.reason === 'no-permitting-rule').map((d) => d.category);
  return { ...shared, unpermitted, json: JSON.stringify(shared).slice(1, -1) };
}

// A copy: the caller's objects stay its own, the verdict's are frozen.
const copyOf = (d: CategoryDecision): CategoryDecision => ({ ...d, rules: [...d.rules] });

/** CONTRACT 2.3: request-level failures once, then per category its rules or its one code. */
function explainReasons(
  c: Covenant,
  lb: LegalBasis,
  failures: readonly RequestLevelCode[],
  categories: readonly CategoryDecision[],
  base: MessageParams,
  approvals: ReadonlySet<Id>,
): Reason[] {
  const reasons: Reason[] = failures.map((code) => {
    if (code !== 'approval-required') return { code, message: reasonMessage(code, base) };
    const missing = missingApprovals(lb.requires, approvals);
    return { code, approvals: missing, message: reasonMessage(code, { ...base, approvals: missing }) };
  });
  if (failures.length > 0) return reasons;
  for (const d of categories) {
    const params = { ...base, category: d.category };
    const code: DenialCode | 'permitted-by-rule' = d.decision === 'permit' ? 'permitted-by-rule' : d.reason;
    if (code === 'permitted-by-rule' || code === 'denied-by-rule') {
      for (const id of d.rules) {
        const rule = c.rulesById.get(id);
        const citation = rule?.citation ?? id;
        reasons.push({
          code,
          rule: id,
          citation,
          category: d.category,
          message: reasonMessage(code, { ...params, rule: id, citation }),
          ...(rule?.explanation && { explanation: rule.explanation }),
        });
      }
    } else if (code === 'approval-required') {
      for (const id of d.rules) {
        const rule = c.rulesById.get(id);
        const citation = rule?.citation ?? id;
        const missing = missingApprovals(rule?.requires, approvals);
        reasons.push({ code, approvals: missing, rule: id, citation, category: d.category, message: reasonMessage(code, { ...params, rule: id, citation, approvals: missing }) });
      }
    } else if (code === 'legal-basis-does-not-cover-category' || code === 'no-permitting-rule') {
      reasons.push({ code, category: d.category, message: reasonMessage(code, params) });
    }
  }
  return reasons;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
