// Access logging, authentication, roles and bodies: what every route does around its own work.
import { instantOf } from '../compile/time.js';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { routePath } from 'hono/route';
import { ENTRY_KINDS, type Caller, type EntryKind, type ListFilter, type Role } from '../audit/types.js';
import { validateIdParam, type Validator } from '../schema/index.js';
import { refuse } from '../service/decisions.js';
import type { AppDeps, Env } from './deps.js';
import { problem } from './problem.js';
import { duplicateKey } from '../loader/parse-json.js';
import { PostedWorkRefused } from '../service/review-thread.js';

/** What a route does once the caller is known: answers with a Response, as Hono's handlers do. */
export type RouteHandler = (c: Context<Env>) => Response | Promise<Response>;

/**
 * A route's one handler: its access log line, then the caller's key and role, then the route. One
 * handler instead of a chain of middleware because Hono answers a route that has one handler
 * without composing a chain of async functions, a promise and a closure per link: on the decision
 * route 4.5 % fewer instructions a decision (valgrind: 322k → 307k), though no more decisions a
 * second that noise would let one see. Roles are checked after the key: an unknown key is a 401
 * whatever the route, a known one without the role a recorded 403.
 */
export function guarded(deps: AppDeps, roles: readonly Role[], handler: RouteHandler): RouteHandler {
  return logged(deps, function guard(c) {
    const caller = identify(deps, c);
    if (caller instanceof Response) return caller;
    const wait = deps.throttle?.admit(caller) ?? 0;
    if (wait > 0) return limited(c, deps, caller, wait);
    if (!roles.includes(caller.role)) {
      return refusal(c, deps, routeOf(c), 403, 'forbidden', [
        { path: '', message: `role \`${caller.role}\` may not use this route; it needs ${roles.map((r) => `\`${r}\``).join(' or ')}` },
      ]);
    }
    return handler(c);
  });
}

/**
 * Bearer keys (CONTRACT 3): the caller a request's key belongs to, set on the context, or the 401
 * to answer with. Unauthenticated requests are counted, never recorded.
 */
export function identify(deps: AppDeps, c: Context<Env>): Caller | Response {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
  const caller = m?.[1] ? deps.keys.authenticate(m[1]) : undefined;
  if (!caller) {
    deps.metrics.unauthenticated.inc();
    return problem(c, 401, 'authentication required', [{ path: '', message: 'send `Authorization: Bearer <api key>` with a valid, unrevoked key' }], {
      'www-authenticate': 'Bearer',
    });
  }
  c.set('caller', caller);
  return caller;
}

/**
 * The access log around a handler. Never the key, never the body: method, route, status, time and
 * which key was used. A successful request is routine (the decision log and metrics keep it) and
 * logged at debug; the rest is news. A handler that throws is logged by the app's error handler.
 */
export function logged(deps: AppDeps, handler: RouteHandler): RouteHandler {
  return function accessLogged(c) {
    const started = performance.now();
    const res = handler(c);
    return res instanceof Promise ? res.then((r) => accessLog(deps, c, r, started)) : accessLog(deps, c, res, started);
  };
}

/** A 429 for a key over its limit, recorded in aggregate (src/http/throttle.ts). */
async function limited(c: Context<Env>, deps: AppDeps, caller: Caller, waitMs: number): Promise<Response> {
  try {
    await deps.throttle?.limited(caller, routeOf(c));
  } catch {
    return problem(c, 503, 'the refusal could not be recorded', [{ path: '', message: 'the decision log is not writable. Try again later' }]);
  }
  deps.metrics.refusals.inc({ status: '429' });
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return problem(c, 429, 'too many requests', [{ path: '', message: `this key is over its limit (too many refused requests, or too many requests); try again in ${seconds} s` }], { 'retry-after': String(seconds) });
}

const REFUSED = new Set([400, 403, 413, 415, 422]);

function accessLog(deps: AppDeps, c: Context<Env>, res: Response, started: number): Response {
  const caller = c.get('caller');
  if (caller && REFUSED.has(res.status)) deps.throttle?.refused(caller);
  const level = res.status < 400 ? 'debug' : 'info';
  if (!deps.logger.isLevelEnabled(level)) return res;
  // Who sent what was refused: the client's address (a failed sign-in is news for whoever watches).
  const client = res.status >= 400 ? clientAddress(c) : undefined;
  deps.logger[level](
    { method: c.req.method, path: routePath(c) || '(no route)', status: res.status, ms: performance.now() - started, ...(caller && { keyId: caller.keyId, role: caller.role }), ...(client && { client }) },
    'request',
  );
  return res;
}

/** The peer's address, from Node's socket (the service is meant to be reached directly or through a proxy that logs its own). */
function clientAddress(c: Context<Env>): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

/**
 * Records the refusal of an authenticated caller and answers it as a problem (CONTRACT 3); a
 * refusal that cannot be recorded is answered 503, like a decision.
 */
export async function refusal(
  c: Context<Env>,
  deps: AppDeps,
  route: string,
  status: 400 | 403 | 413 | 415 | 422,
  title: string,
  errors: readonly { path: string; message: string }[],
): Promise<Response> {
  const outcome = await refuse(deps, c.get('caller'), route, { status, title, errors: errors.map((e) => ({ path: e.path, message: e.message })) });
  deps.metrics.refusals.inc({ status: String(outcome.status) });
  return outcome.status === 503 ? problem(c, 503, 'the refusal could not be recorded', outcome.errors) : problem(c, status, title, outcome.errors);
}

/**
 * The answer when posted rule files could not be checked: too costly to check (413, recorded as a
 * refusal), or no thread to check them on (503). Anything else is not ours to answer.
 */
export function postedRefused(c: Context<Env>, deps: AppDeps, route: string, e: unknown): Promise<Response> | Response {
  if (!(e instanceof PostedWorkRefused)) throw e;
  if (e.status === 503) return problem(c, 503, 'posted files not checked', [{ path: '/files', message: e.message }]);
  return refusal(c, deps, route, 413, 'posted files too costly to check', [{ path: '/files', message: e.message }]);
}

/** A 400 for a bad query, path parameter or body, recorded as a refusal. */
export const refused = (c: Context<Env>, deps: AppDeps, route: string, errors: readonly { path: string; message: string }[]): Promise<Response> =>
  refusal(c, deps, route, 400, 'malformed request', errors);

/**
 * A period's bounds in order. The schemas check each date-time; only together do they say whether
 * the period is empty by mistake, which is answered as a bad request rather than as nothing found.
 */
function periodErrors(value: unknown): { path: string; message: string }[] {
  const { from, to } = (typeof value === 'object' && value !== null ? value : {}) as { from?: unknown; to?: unknown };
  if (typeof from !== 'string' || typeof to !== 'string' || !(instantOf(from) > instantOf(to))) return [];
  return [{ path: '/to', message: `must not be before \`from\` (${from})` }];
}

/** The query string if `validate` accepts it, else the recorded refusal to answer with. */
export async function validQuery(c: Context<Env>, deps: AppDeps, validate: Validator, route: string): Promise<Record<string, string> | Response> {
  const q = c.req.query();
  const errors = validate(q);
  const all = errors.length > 0 ? errors : periodErrors(q);
  return all.length > 0 ? refused(c, deps, route, all) : q;
}

/** A route's `:id` if the schema accepts it, else the recorded refusal to answer with. */
export async function validId(c: Context<Env>, deps: AppDeps, route: string): Promise<string | Response> {
  const id = c.req.param('id');
  const errors = validateIdParam({ id });
  // The schema requires the id; the check of `id` itself only tells TypeScript so.
  return errors.length > 0 || id === undefined ? refused(c, deps, route, errors) : id;
}

/** The JSON body if it is readable within `limit` and `validate` accepts it, else the recorded refusal. */
export async function validBody(c: Context<Env>, deps: AppDeps, limit: number, validate: Validator, route: string): Promise<{ value: unknown } | Response> {
  const body = await readJson(c, limit);
  if (!body.ok) return refusal(c, deps, route, body.status, body.title, [{ path: '', message: body.message }]);
  const errors = validate(body.value);
  const all = errors.length > 0 ? errors : periodErrors(body.value);
  return all.length > 0 ? refused(c, deps, route, all) : { value: body.value };
}

export const routeOf = (c: Context): string => `${c.req.method} ${routePath(c) || c.req.path}`;

/** Bodies that carry a covenant's files may be larger than a decision request. */
export const filesLimit = (deps: AppDeps): number => Math.max(deps.bodyLimitBytes, 8 << 20);

export type Body = { ok: true; value: unknown } | { ok: false; status: 400 | 413 | 415; title: string; message: string };

const tooLarge = (limit: number): Body => ({ ok: false, status: 413, title: 'request body too large', message: `the body may be at most ${limit} bytes` });

/**
 * Whether a chunked body passes `limit`: counted as it arrives, reading stops there rather than
 * taking the body in whole. Hono's bodyLimit counts; it is slower, so only chunked bodies use it.
 */
async function chunkedOverLimit(c: Context, limit: number): Promise<boolean> {
  let over = false;
  await bodyLimit({ maxSize: limit, onError: () => ((over = true), new Response(null, { status: 413 })) })(c, async () => undefined);
  return over;
}

/**
 * Why a body's declared type or encoding is not one we read, if it is not: JSON in UTF-8, not
 * compressed. A body sent as text/plain or gzip was read as JSON before, whatever it meant to be.
 * No Content-Type at all is taken as JSON, as clients that send none mean it.
 */
function mediaTypeProblem(type: string | undefined, encoding: string | undefined): string | undefined {
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return `Content-Encoding \`${encoding}\` is not supported: send the JSON uncompressed`;
  if (type === undefined) return undefined;
  const [essence = '', ...params] = type.toLowerCase().split(';').map((p) => p.trim());
  if (essence !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(essence)) return `Content-Type \`${type}\` is not supported: send \`application/json\``;
  const charset = params.find((p) => p.startsWith('charset='));
  if (charset !== undefined && !/^charset="?utf-8"?$/.test(charset)) return `Content-Type \`${type}\`: only UTF-8 is read`;
  return undefined;
}

/** Reads a JSON body within the size limit, without trusting Content-Length alone. */
export async function readJson(c: Context, limit: number): Promise<Body> {
  if (Number(c.req.header('content-length') ?? '0') > limit) return tooLarge(limit);
  const unsupported = mediaTypeProblem(c.req.header('content-type'), c.req.header('content-encoding'));
  if (unsupported) return { ok: false, status: 415, title: 'unsupported media type', message: unsupported };
  let text: string;
  try {
    // A body with a Content-Length cannot be longer than it says (HTTP framing); a chunked one can.
    if (c.req.header('transfer-encoding') !== undefined && (await chunkedOverLimit(c, limit))) return tooLarge(limit);
    // text(), not arrayBuffer(): the server decodes its own buffer, where arrayBuffer() would copy
    // it into a new ArrayBuffer first; measured, that copy and a second decoding cost ~4 µs of the ~66
    // µs of CPU a decision took.
    text = await c.req.text();
  } catch {
    return { ok: false, status: 400, title: 'unreadable body', message: 'the request body could not be read' };
  }
  // Decoding put U+FFFD where bytes were not UTF-8. A request has no use for that character
  // itself, so its presence is refused as what it almost always is: a body that is not UTF-8.
  if (text.includes('\uFFFD')) return { ok: false, status: 400, title: 'malformed request', message: 'the body is not valid UTF-8, or holds U+FFFD (the replacement character)' };
  // Without replacements the text encodes back to exactly the bytes that were read.
  if (Buffer.byteLength(text, 'utf8') > limit) return tooLarge(limit);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, status: 400, title: 'malformed request', message: 'the body is not valid JSON' };
  }
  const repeated = duplicateKey(text, value);
  if (repeated !== undefined) return { ok: false, status: 400, title: 'malformed request', message: `the key \`${repeated}\` appears twice in one object: the request is ambiguous` };
  return { ok: true, value };
}

/** A query's or body's `from` and `to`, as instants, for the period routes and pages. */
export const periodOf = (q: { from?: string; to?: string }): { from?: number; to?: number } => ({
  ...(q.from !== undefined && { from: instantOf(q.from) }),
  ...(q.to !== undefined && { to: instantOf(q.to) }),
});

/**
 * A response streamed a chunk at a time as the client takes them (an export read on the review
 * thread), never the whole log in memory; a client that goes away closes the reading.
 */
export function streamed(chunks: AsyncGenerator<string>, headers: Record<string, string>): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return new Response(body, { headers });
}

/** The log filter a listing query (valid by `listQuery`) asks for: by the API's route and the console's page alike. */
export function listFilterOf(query: Record<string, string>): ListFilter {
  const kind = (query.kind ?? 'decision') as EntryKind | 'all';
  const text = ['provider', 'recipient', 'purpose', 'category', 'legalBasis', 'rule', 'caseReference', 'callerKey'] as const;
  return {
    kinds: kind === 'all' ? ENTRY_KINDS : [kind],
    ...Object.fromEntries(text.filter((k) => query[k] !== undefined).map((k) => [k, query[k]])),
    ...(query.decision !== undefined && { decision: query.decision as 'permit' | 'deny' }),
    ...periodOf(query),
  };
}
