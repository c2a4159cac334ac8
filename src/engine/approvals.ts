// Prior approvals: a rule or legal basis may require kinds of approval (an officier van justitie's
// consent, a review committee's advice) granted for the request's case. Which are granted the
// service's register says; the engine only compares.
import type { Id } from '../domain/types.js';

/** The kinds in `requires` that `approvals` lacks, in the order written. */
export const missingApprovals = (requires: readonly Id[] | undefined, approvals: ReadonlySet<Id>): Id[] => (requires ?? []).filter((k) => !approvals.has(k));
