// The engine's public face: check a raw request, then evaluate it.
import type { Covenant } from '../domain/covenant.js';
import type { Decision, RequestFault, Result } from '../domain/types.js';
import { ok } from '../domain/types.js';
import { checkRequest } from './request.js';
import { evaluate, type EvaluateOptions } from './decide.js';

export { checkIds, checkRequest, parseRequest } from './request.js';
export { evaluate, everyRule, indexed, exchangeTime, type EvaluateOptions } from './decide.js';
export { decisionJson } from './verdict.js';

export interface DecideInput {
  /** the clock, in ms; stands in for an absent `requestedAt` */
  readonly now: number;
  readonly decisionId: string;
}

/** A raw request to a decision, or the fault that stops it (CONTRACT 2.2(1)). */
export function decide(covenant: Covenant, raw: unknown, input: DecideInput, options?: EvaluateOptions): Result<Decision, RequestFault> {
  const checked = checkRequest(covenant, raw);
  if (!checked.ok) return checked;
  return ok({ decisionId: input.decisionId, ...evaluate(covenant, checked.value, input.now, options) });
}
