// The use case shared by HTTP and CLI: decide, record, then answer. The one place that orders
// decide -> append -> answer: no decision leaves before it is durably in the log.
import { originOf } from './origin.js';
import { createHash } from 'node:crypto';
import type { Covenant } from '../domain/covenant.js';
import type { Decision, RequestError } from '../domain/types.js';
import { checkIds, decisionJson, evaluate, exchangeTime, parseRequest } from '../engine/index.js';
import type { Caller, DecisionLog, EntryDraft } from '../audit/types.js';
import type { Relied } from '../approvals/register.js';

export interface DecisionDeps {
  readonly log: DecisionLog;
  readonly covenant: () => Covenant;
  readonly now: () => number;
  readonly newId: (now: number) => string;
  /** how far `requestedAt` on a decision may lie from the server's clock */
  readonly maxSkewMs: number;
  /** false: answers without receipts, as before the log was verifiable (for `npm run bench:http`'s comparison only) */
  readonly receipts?: boolean;
  /** the approvals register: which approvals are in force for a case; none when absent */
  readonly approvals?: { inForce(caseReference: string | undefined, t: number, now: number): readonly Relied[] };
}

export type Outcome =
  /** `body` is the decision's JSON in UTF-8, as recorded (serialised and encoded once), with its receipt */
  | { readonly status: 200; readonly decision: Decision; readonly body: Uint8Array<ArrayBuffer> }
  | { readonly status: 400 | 403 | 413 | 415 | 422; readonly title: string; readonly errors: readonly RequestError[] }
  | { readonly status: 503; readonly title: string; readonly errors: readonly RequestError[] };

const unavailable: Extract<Outcome, { status: 503 }> = {
  status: 503,
  title: 'the decision could not be recorded',
  errors: [{ path: '', message: 'the decision log is not writable; no decision was made. Try again later' }],
};

/** Records a refusal; when even that fails, the answer is a 503 rather than an unrecorded refusal. */
export async function refuse(
  deps: Pick<DecisionDeps, 'log' | 'now' | 'newId'>,
  caller: Caller,
  route: string,
  outcome: Extract<Outcome, { status: 400 | 403 | 413 | 415 | 422 }>,
  request?: unknown,
): Promise<Exclude<Outcome, { status: 200 }>> {
  const now = deps.now();
  const bounded = { ...outcome, errors: boundErrors(outcome.errors) };
  const draft: EntryDraft = {
    kind: 'refusal',
    id: deps.newId(now),
    at: new Date(now).toISOString(),
    caller,
    route,
    status: outcome.status,
    errors: bounded.errors,
    ...(request !== undefined && { request: recordable(request) }),
  };
  try {
    await deps.log.append(draft);
    return bounded;
  } catch {
    return unavailable;
  }
}

/**
 * At most this many errors are answered and recorded, then how many more there were: a 40 KB body
 * of 20,000 wrong numbers was answered with 1.2 MB of errors and wrote as much to the log.
 */
const MAX_ERRORS = 20;
/** A refused body is recorded whole up to this size (as JSON); beyond it, its start, size and sha256. */
const MAX_RECORDED = 4096;

function boundErrors(errors: readonly RequestError[]): readonly RequestError[] {
  if (errors.length <= MAX_ERRORS) return errors;
  return [...errors.slice(0, MAX_ERRORS), { path: '', message: `and ${errors.length - MAX_ERRORS} more errors` }];
}

/** Deeper than any request the schemas accept, and far shallower than JSON.stringify's limit. */
const MAX_DEPTH = 64;

/**
 * A refused body as the log keeps it: as it came, unless it is nested deeper than MAX_DEPTH.
 * JSON.parse takes any depth, JSON.stringify does not, and a refusal that cannot be written
 * would be answered 503 where the caller sent a 400: such a body is replaced by a note.
 */
function recordable(body: unknown): unknown {
  const stack: { value: unknown; depth: number }[] = [{ value: body, depth: 0 }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth === MAX_DEPTH) return `(not recorded: nested more than ${MAX_DEPTH} levels deep)`;
    for (const child of Object.values(next.value)) stack.push({ value: child, depth: next.depth + 1 });
  }
  const text = JSON.stringify(body);
  if (text.length > MAX_RECORDED) {
    // Bounded, so that refusals cannot fill the disk, and still identifiable: its size and hash.
    return { truncated: true, bytes: Buffer.byteLength(text, 'utf8'), sha256: `sha256:${createHash('sha256').update(text).digest('hex')}`, start: text.slice(0, MAX_RECORDED) };
  }
  return body;
}

/** POST /v1/decisions and /v1/simulations: `kind` says which, and which checks apply. */
/** `tied`: the receipt also holds the stored entry around the decision, to tie it to the answer offline. */
export async function decideAndRecord(deps: DecisionDeps, caller: Caller, body: unknown, kind: 'decision' | 'simulation', route: string, tied = false): Promise<Outcome> {
  const parsed = parseRequest(body);
  if (!parsed.ok) return refuse(deps, caller, route, { status: 400, title: 'malformed request', errors: parsed.error.errors }, body);
  const request = parsed.value;
  if (kind === 'decision' && caller.role === 'partner' && caller.partner !== request.provider && caller.partner !== request.recipient) {
    return refuse(
      deps,
      caller,
      route,
      { status: 403, title: 'not a party to this exchange', errors: [{ path: '/provider', message: `partner \`${caller.partner}\` may only ask about exchanges it provides or receives` }] },
      body,
    );
  }
  // INVARIANT: one read of the current version per request, so it never sees a mix of two.
  const covenant = deps.covenant();
  const checked = checkIds(covenant, request);
  if (!checked.ok) return refuse(deps, caller, route, { status: 422, title: unprocessableTitle(request, checked.error.errors.length), errors: checked.error.errors }, body);
  const now = deps.now();
  if (kind === 'decision' && request.requestedAt !== undefined) {
    if (!(Math.abs(exchangeTime(checked.value, now) - now) <= deps.maxSkewMs)) {
      return refuse(
        deps,
        caller,
        route,
        {
          status: 422,
          title: 'requestedAt outside the allowed window',
          errors: [{ path: '/requestedAt', message: `must lie within ${deps.maxSkewMs / 1000} seconds of the server's clock; use /v1/simulations for other times` }],
        },
        body,
      );
    }
  }
  const found = await originOf(deps.log, checked.value);
  if (!found.ok) return refuse(deps, caller, route, { status: 422, title: 'derivedFrom names no data the provider received', errors: found.errors }, body);
  const origin = found.origin;
  const relied = deps.approvals?.inForce(checked.value.caseReference, exchangeTime(checked.value, now), now) ?? [];
  const approvals = relied.length > 0 ? new Set(relied.map((a) => a.kind)) : undefined;
  const id = deps.newId(now);
  const decision: Decision = { decisionId: id, ...evaluate(covenant, checked.value, now, { askedBy: caller, ...(origin && { origin }), ...(approvals && { approvals }) }) };
  // Buffer.from(string) allocates from Node's own pool, an ArrayBuffer, never a shared one.
  const answer = Buffer.from(decisionJson(decision), 'utf8') as Uint8Array<ArrayBuffer>;
  const draft: EntryDraft = {
    kind,
    id,
    at: decision.evaluatedAt,
    caller,
    request: checked.value,
    ...(origin && { origin }),
    ...(relied.length > 0 && { approvals: relied }),
    decision,
    policyVersion: decision.policyVersion,
  };
  try {
    if (deps.receipts === false) {
      await deps.log.append(draft, answer);
      return { status: 200, decision, body: answer };
    }
    const { receipt } = await deps.log.appendProven(draft, answer, tied);
    return { status: 200, decision, body: withReceipt(answer, receipt) };
  } catch {
    return unavailable;
  }
}

/**
 * The answer with its receipt as the last member, outside the decision as recorded: the recorded
 * decision is the answer's text up to the receipt, which is what a partner's verifier relies on.
 */
function withReceipt(answer: Uint8Array<ArrayBuffer>, receipt: string): Uint8Array<ArrayBuffer> {
  const tail = `,"receipt":${receipt}}`;
  const out = Buffer.allocUnsafe(answer.length - 1 + Buffer.byteLength(tail));
  out.set(answer.subarray(0, answer.length - 1), 0);
  out.write(tail, answer.length - 1, 'utf8');
  return out as Uint8Array<ArrayBuffer>;
}

/** A 422's title says what is wrong: ids the covenant does not define, a provider that is also the recipient, or both. */
function unprocessableTitle(r: { provider: string; recipient: string }, errors: number): string {
  if (r.provider !== r.recipient) return 'unknown ids in request';
  return errors > 1 ? 'unknown ids in request, and the provider is also the recipient' : 'the provider is also the recipient';
}
