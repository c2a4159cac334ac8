// CONTRACT 2.2(1): a malformed request (schema) is `malformed` (HTTP 400); a well-formed one that
// names an id the covenant does not define, or a provider equal to the recipient, is
// `unprocessable` (422). Schema faults win when both are present.
import type { Covenant } from '../domain/covenant.js';
import type { CheckedRequest, DecisionRequest, RequestError, RequestFault, Result } from '../domain/types.js';
import { err, ok } from '../domain/types.js';
import { validateRequestSchema } from '../schema/index.js';
import { parseRequestTime } from '../compile/time.js';

export function parseRequest(raw: unknown): Result<DecisionRequest, RequestFault> {
  const schemaErrors = validateRequestSchema(raw);
  if (schemaErrors.length > 0) {
    return err({ kind: 'malformed', errors: schemaErrors.map((e) => ({ path: e.path, message: e.message })) });
  }
  const request = raw as DecisionRequest;
  if (request.requestedAt !== undefined && parseRequestTime(request.requestedAt) === undefined) {
    return err({
      kind: 'malformed',
      errors: [{ path: '/requestedAt', message: 'must be a real RFC 3339 date-time with `Z` or an offset' }],
    });
  }
  return ok(request);
}

export function checkRequest(covenant: Covenant, raw: unknown): Result<CheckedRequest, RequestFault> {
  const parsed = parseRequest(raw);
  return parsed.ok ? checkIds(covenant, parsed.value) : parsed;
}

/** The ids of a well-formed request against a covenant: each must be defined (CONTRACT 2.2(1)). */
export function checkIds(covenant: Covenant, r: DecisionRequest): Result<CheckedRequest, RequestFault> {
  const errors: RequestError[] = [];
  const known = (path: string, id: string, map: ReadonlyMap<string, unknown>, noun: string): void => {
    if (!map.has(id)) errors.push({ path, message: `unknown ${noun} \`${id}\`` });
  };
  known('/provider', r.provider, covenant.partners, 'partner');
  known('/recipient', r.recipient, covenant.partners, 'partner');
  r.dataCategories.forEach((c, i) => known(`/dataCategories/${i}`, c, covenant.categories, 'data category'));
  known('/purpose', r.purpose, covenant.purposes, 'purpose');
  known('/legalBasis', r.legalBasis, covenant.legalBases, 'legal basis');
  if (r.provider === r.recipient) errors.push({ path: '/recipient', message: 'the recipient must differ from the provider' });
  return errors.length > 0 ? err({ kind: 'unprocessable', errors }) : ok(r as CheckedRequest);
}
