// Prior approvals: a rule or legal basis may require kinds of approval (an officier van justitie's
// consent, a review committee's advice) granted for the request's case. Which are granted the
// service's register says; the engine only compares.
import type { Id } from '../domain/types.js';

const NONE: readonly Id[] = Object.freeze([]);

/**
 * The kinds in `requires` that `approvals` lacks, in the order written. Asked for every permit
 * rule that applies, so nothing is allocated for the rules (nearly all) that require none.
 */
export const missingApprovals = (requires: readonly Id[] | undefined, approvals: ReadonlySet<Id>): readonly Id[] =>
  requires === undefined || requires.every((k) => approvals.has(k)) ? NONE : requires.filter((k) => !approvals.has(k));
