// CONTRACT 2.2, one small function per step. Pure: the time and the covenant come in as
// arguments, and the same request, time and covenant always give the same evaluation.
import type { Covenant, LegalBasis, Rule } from '../domain/covenant.js';
import type {
  AskedBy,
  Origin,
  CategoryDecision,
  CheckedRequest,
  Evaluation,
  Id,
  NearMiss,
  RequestLevelCode,
} from '../domain/types.js';
import { evaluateCondition, type ConditionOutcome, type Facts } from '../conditions/index.js';
import { isoTime, parseRequestTime, within } from '../compile/time.js';
import { covers } from '../compile/source.js';
import { matchesStatic } from '../compile/rule-index.js';
import { nearMisses } from './near-miss.js';
import { verdictOf } from './verdict.js';
import { missingApprovals } from './approvals.js';

/** Where the rules for one category come from: the index, or (for comparison) every rule. */
export type CandidateSource = (covenant: Covenant, request: CheckedRequest, category: Id) => readonly Rule[];

export const indexed: CandidateSource = (c, r, category) =>
  c.index.candidates(r.provider, r.recipient, r.legalBasis, r.purpose, category);

export const everyRule: CandidateSource = (c) => c.rules;

export interface EvaluateOptions {
  readonly candidates?: CandidateSource;
  /** near misses look at every near permit rule of a denied category; the bench and tests can leave them out */
  readonly explain?: boolean;
  /** the unit and function of the caller's key, for `when` clauses that name them */
  readonly askedBy?: AskedBy;
  /** where the data came from, for a request with `derivedFrom`: the service looks it up in the log */
  readonly origin?: Origin;
  /** the approval kinds granted for the request's case and in force at its time: the service's register says */
  readonly approvals?: ReadonlySet<Id>;
}

const NONE: ReadonlySet<Id> = new Set();

/** The time of the exchange: `requestedAt`, or now (CONTRACT 2.2). */
export function exchangeTime(request: CheckedRequest, now: number): number {
  // INVARIANT: checkRequest rejected a requestedAt that does not parse.
  return request.requestedAt === undefined ? now : (parseRequestTime(request.requestedAt) ?? Number.NaN);
}

/** CONTRACT 2.1: what `when` sees; absent optional fields are null, `pseudonymised` false. */
export function factsOf(r: CheckedRequest, askedBy: AskedBy = {}, origin?: Origin): Facts {
  return {
    provider: r.provider,
    recipient: r.recipient,
    dataCategories: r.dataCategories,
    purpose: r.purpose,
    legalBasis: r.legalBasis,
    subjectCount: r.subjectCount ?? null,
    pseudonymised: r.pseudonymised ?? false,
    caseReference: r.caseReference ?? null,
    requestedAt: r.requestedAt ?? null,
    context: r.context ?? null,
    derivedFrom: r.derivedFrom ?? null,
    unit: askedBy.unit ?? null,
    function: askedBy.function ?? null,
    origin: origin ?? null,
  };
}

/** Step 2: every request-level failure, in the order CONTRACT 2.2(2) lists them. */
export function requestLevelFailures(c: Covenant, r: CheckedRequest, lb: LegalBasis, t: number, approvals: ReadonlySet<Id> = NONE): RequestLevelCode[] {
  const failures: RequestLevelCode[] = [];
  if (!within(c.info.validity, t)) failures.push('covenant-not-in-force');
  if (!within(lb.validity, t)) failures.push('legal-basis-not-in-force');
  if (!lb.providers.has(r.provider)) failures.push('legal-basis-not-available-to-provider');
  if (lb.purposes && !covers(lb.purposes, r.purpose)) failures.push('legal-basis-does-not-cover-purpose');
  if (missingApprovals(lb.requires, approvals).length > 0) failures.push('approval-required');
  return failures;
}

/** Step 4: does a rule apply for one category? Static fields are the candidate source's job. */
function applies(rule: Rule, t: number, whenOf: (rule: Rule) => ConditionOutcome): boolean {
  if (!within(rule.validity, t)) return false;
  if (!rule.when) return true;
  const o = whenOf(rule);
  // A `when` that cannot be evaluated holds for a deny rule and not for a permit rule: fail closed.
  return o === 'holds' || (o === 'error' && rule.effect === 'deny');
}

/** Steps 3 to 5 for one category. */
function decideCategory(
  c: Covenant,
  r: CheckedRequest,
  lb: LegalBasis,
  category: Id,
  t: number,
  source: CandidateSource,
  whenOf: (rule: Rule) => ConditionOutcome,
  approvals: ReadonlySet<Id>,
): CategoryDecision {
  if (!covers(lb.categories, category)) {
    return { category, decision: 'deny', rules: [], reason: 'legal-basis-does-not-cover-category' };
  }
  const permits: Id[] = [];
  const denies: Id[] = [];
  // permit rules that applied in every other respect but lack an approval: they permit nothing
  const awaiting: Id[] = [];
  for (const rule of source(c, r, category)) {
    if (source !== indexed && !matchesRequest(rule, r, category)) continue;
    if (!applies(rule, t, whenOf)) continue;
    if (rule.effect === 'deny') denies.push(rule.id);
    else if (missingApprovals(rule.requires, approvals).length > 0) awaiting.push(rule.id);
    else permits.push(rule.id);
  }
  if (denies.length > 0) return { category, decision: 'deny', rules: denies, reason: 'denied-by-rule' };
  if (permits.length > 0) return { category, decision: 'permit', rules: permits };
  if (awaiting.length > 0) return { category, decision: 'deny', rules: awaiting, reason: 'approval-required' };
  return { category, decision: 'deny', rules: [], reason: 'no-permitting-rule' };
}

/** Every field of CONTRACT 2.2(4) but time and `when`: what the index answers for us. */
export function matchesRequest(rule: Rule, r: CheckedRequest, category: Id): boolean {
  return matchesStatic(rule, r.provider, r.recipient, r.legalBasis, r.purpose) && (!rule.categories || covers(rule.categories, category));
}

export function evaluate(c: Covenant, r: CheckedRequest, now: number, options: EvaluateOptions = {}): Evaluation {
  const source = options.candidates ?? indexed;
  const t = exchangeTime(r, now);
  const lb = c.legalBases.get(r.legalBasis);
  // INVARIANT: checkRequest established that every id is defined and the time parses.
  if (!lb || Number.isNaN(t)) throw new Error('evaluate() needs a request that checkRequest() accepted');
  const facts = factsOf(r, options.askedBy, options.origin);
  const whenCache = new Map<Rule, ConditionOutcome>();
  const whenOf = (rule: Rule): ConditionOutcome => {
    let o = whenCache.get(rule);
    if (o === undefined && rule.when) {
      o = evaluateCondition(rule.when, facts);
      whenCache.set(rule, o);
    }
    return o ?? 'holds';
  };

  const approvals = options.approvals ?? NONE;
  const failures = requestLevelFailures(c, r, lb, t, approvals);
  const firstFailure = failures[0];
  const categories: CategoryDecision[] = r.dataCategories.map((category) =>
    firstFailure !== undefined
      ? { category, decision: 'deny', rules: [], reason: firstFailure }
      : decideCategory(c, r, lb, category, t, source, whenOf, approvals),
  );

  const verdict = verdictOf(c, r, lb, failures, categories, t, approvals);
  const misses: NearMiss[] =
    options.explain === false || verdict.unpermitted.length === 0 ? [] : verdict.unpermitted.flatMap((category) => nearMisses(c, r, category, t, facts, whenOf, approvals));
  return {
    decision: verdict.decision,
    categories: verdict.categories,
    reasons: verdict.reasons,
    obligations: verdict.obligations,
    nearMisses: misses,
    policyVersion: c.policyVersion,
    evaluatedAt: isoTime(now),
  };
}
