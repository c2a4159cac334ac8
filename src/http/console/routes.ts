// /console: the reviewing roles' pages. Sign in with an API key (it becomes a session cookie),
// sign out; every form carries the session's token and must come from this origin; what shows
// follows the role. The pages read through the same review thread and engine as the API routes.
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Caller } from '../../audit/types.js';
import { parseInstant } from '../../compile/time.js';
import { buildMatrix, renderMatrix, type Matrix } from '../../engine/matrix.js';
import { decideAndRecord, refuse } from '../../service/decisions.js';
import { renderReportHtml } from '../../service/report-html.js';
import { namesOf } from '../../service/report.js';
import { replay, VersionCache } from '../../service/review.js';
import { diffCovenants } from '../../service/policy-diff.js';
import { PostedWorkRefused } from '../../service/review-thread.js';
import { readTestFiles } from '../../loader/files.js';
import {
  validateConsoleDraft,
  validateConsoleForm,
  validateConsoleHistory,
  validateConsoleSignIn,
  validateConsoleWhatIf,
  validateExportQuery,
  validateListQuery,
  validateConsoleMatrix,
  validateReportQuery,
  type Validator,
} from '../../schema/index.js';
import type { AppDeps, Env } from '../deps.js';
import { listFilterOf, logged, periodOf, streamed } from '../middleware.js';
import { ConsoleSessions, SESSION_COOKIE, SESSION_SECONDS, sameToken } from './session.js';
import { CONSOLE_CSS, covenantPage, decisionView, draftPage, entryPage, historyPage, matrixPage, exportsPage, home, integrityPage, layout, logPage, signIn, whatIfPage, VIEWS } from './views.js';

/** No script at all; styles from this origin; forms post here only; nothing may frame a page. */
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/** The report and the matrix are documents of their own with their styles inline, and no script. */
const CSP_DOCUMENT = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";
// `same-origin`, not `no-referrer`: under no-referrer a browser posts forms with `Origin: null`,
// which the origin check must refuse, so no form would work.
const HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin', 'cache-control': 'no-store' };
/** A console form is a few fields: anything larger is refused before it is read. */
const FORM_LIMIT = 16 * 1024;
/** A draft carries a rule file, percent-encoded: up to 2 MiB of text may take three times that. */
const DRAFT_LIMIT = 6 * 1024 * 1024;

type Who = { caller: Caller; csrf: string; token: string };

export function consoleRoutes(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const sessions = new ConsoleSessions((id) => deps.keys.active?.(id), deps.consoleSessionSeconds ?? SESSION_SECONDS, deps.consoleSessions);
  const versions = deps.archive && new VersionCache(deps.archive);

  const send = (c: Context<Env>, title: string, who: Who | undefined, body: Parameters<typeof layout>[2], status: 200 | 400 | 401 | 403 | 404 | 413 | 503 = 200): Promise<Response> | Response =>
    c.html(layout(title, who, body), status, { ...HEADERS, 'content-security-policy': CSP });

  const whoIs = async (c: Context<Env>): Promise<Who | undefined> => {
    const token = getCookie(c, SESSION_COOKIE);
    const found = await sessions.find(token, deps.now());
    if (!found || token === undefined) return undefined;
    c.set('caller', found.caller);
    return { caller: found.caller, csrf: found.session.csrf, token };
  };

  /** The signed-in caller if its role may see `path`; else the answer: sign in first, or forbidden. */
  const allowed = async (c: Context<Env>, path: string): Promise<Who | Response> => {
    const who = await whoIs(c);
    if (!who) return c.redirect('/console', 303);
    if (!VIEWS[who.caller.role].some(([href]) => href === path)) return send(c, 'Not for this role', who, `The role ${who.caller.role} has no access to this page.`, 403);
    return who;
  };

  /** A form posted from another origin is refused whatever it carries (a browser always says where it comes from). */
  const foreign = (c: Context<Env>): boolean => {
    const origin = c.req.header('origin');
    return origin !== undefined && origin !== new URL(c.req.url).origin;
  };

  /** The form's fields if it is small, from this origin and valid by `validate`; else the page to answer. */
  const form = async (c: Context<Env>, validate: Validator, who: Who | undefined, limit = FORM_LIMIT): Promise<Record<string, string> | Response> => {
    if (foreign(c)) return send(c, 'Refused', who, 'This form was posted from another site.', 403);
    const length = c.req.header('content-length');
    // A form always says how long it is; one that does not, or is too long, is not read.
    if (length === undefined || !(Number(length) <= limit)) return send(c, 'Refused', who, `The form is too large (at most ${limit} bytes) or does not say how large it is.`, 413);
    const body = await c.req.parseBody().catch(() => undefined);
    const fields = Object.fromEntries(Object.entries(body ?? {}).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    const errors = body === undefined ? [{ path: '', message: 'not a form' }] : validate(fields);
    if (errors.length > 0) return send(c, 'Refused', who, `The form is not valid: ${errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`, 400);
    if (who && !sameToken(fields.csrf, who.csrf)) return send(c, 'Refused', who, 'The form has expired or was not made by this console; reload the page and try again.', 403);
    return fields;
  };

  /** A query the API's schema for the same data refuses is refused here too, and recorded like the API's. */
  const query = async (c: Context<Env>, who: Who, validate: Validator, route: string, title: string): Promise<Record<string, string> | Response> => {
    const q = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ''));
    const errors = validate(q);
    if (errors.length === 0) return q;
    await refuse(deps, who.caller, route, { status: 400, title: 'malformed request', errors });
    return send(c, title, who, `The query is not valid: ${errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`, 400);
  };

  app.get('/console/console.css', logged(deps, (c) => c.body(CONSOLE_CSS, 200, { ...HEADERS, 'cache-control': 'public, max-age=3600', 'content-type': 'text/css; charset=utf-8' })));

  app.get('/console', logged(deps, async (c) => {
    const who = await whoIs(c);
    return who ? send(c, 'Console', who, home(who.caller)) : send(c, 'Sign in', undefined, signIn());
  }));

  app.post('/console/sign-in', logged(deps, async (c) => {
    const fields = await form(c, validateConsoleSignIn, undefined);
    if (fields instanceof Response) return fields;
    const caller = deps.keys.authenticate(fields.key ?? '');
    if (!caller) {
      deps.metrics.unauthenticated.inc();
      return send(c, 'Sign in', undefined, signIn('That is not a valid, unrevoked API key.'), 401);
    }
    const { token } = await sessions.start(caller, deps.now());
    const secure = new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/console', maxAge: sessions.seconds, secure });
    return c.redirect('/console', 303);
  }));

  app.post('/console/sign-out', logged(deps, async (c) => {
    const who = await whoIs(c);
    if (!who) return c.redirect('/console', 303);
    const fields = await form(c, validateConsoleForm, who);
    if (fields instanceof Response) return fields;
    await sessions.end(who.token);
    deleteCookie(c, SESSION_COOKIE, { path: '/console' });
    return c.redirect('/console', 303);
  }));

  app.get('/console/log', logged(deps, async (c) => {
    const who = await allowed(c, '/console/log');
    if (!('caller' in who)) return who;
    const q = await query(c, who, validateListQuery, 'GET /console/log', 'Decision log');
    if (q instanceof Response) return q;
    const filter = listFilterOf(q);
    const page = await deps.review.list(filter, { limit: Number(q.limit ?? 50), ...(q.cursor !== undefined && { before: Number(q.cursor) }) });
    const { cursor: _, ...kept } = q;
    return send(c, 'Decision log', who, logPage(kept, page.items, page.next === undefined ? undefined : String(page.next)));
  }));

  app.get('/console/log/:id', logged(deps, async (c) => {
    const who = await allowed(c, '/console/log');
    if (!('caller' in who)) return who;
    const id = c.req.param('id') ?? '';
    const entry = /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id) ? await deps.log.get(id) : undefined;
    if (!entry) return send(c, 'No such entry', who, `No entry has the id ${id}.`, 404);
    let replayed: Parameters<typeof entryPage>[2];
    if ((entry.kind === 'decision' || entry.kind === 'simulation') && versions) {
      const r = await replay(deps.log, versions, deps.policy.current().covenant, id);
      replayed = r.ok ? r.value : r.message;
    }
    return send(c, `Entry ${entry.seq}`, who, entryPage(entry, deps.policy.current().covenant, replayed));
  }));

  app.get('/console/integrity', logged(deps, async (c) => {
    const who = await allowed(c, '/console/integrity');
    if (!('caller' in who)) return who;
    const v = await deps.review.verify();
    return send(c, 'Integrity', who, integrityPage(v, (await deps.log.latestCheckpoint())?.note, deps.now()));
  }));

  app.get('/console/report', logged(deps, async (c) => {
    const who = await allowed(c, '/console/report');
    if (!('caller' in who)) return who;
    const q = await query(c, who, validateReportQuery, 'GET /console/report', 'Report');
    if (q instanceof Response) return q;
    const r = await deps.review.report(periodOf(q), namesOf(deps.policy.current().covenant), deps.now());
    return c.html(renderReportHtml(r, new Date(deps.now()).toISOString()), 200, { ...HEADERS, 'content-security-policy': CSP_DOCUMENT });
  }));

  app.get('/console/exports', logged(deps, async (c) => {
    const who = await allowed(c, '/console/exports');
    if (!('caller' in who)) return who;
    return send(c, 'Exports', who, exportsPage());
  }));

  for (const what of ['download', 'digest'] as const) {
    app.get(`/console/exports/${what}`, logged(deps, async (c) => {
      const who = await allowed(c, '/console/exports');
      if (!('caller' in who)) return who;
      const q = await query(c, who, validateExportQuery, `GET /console/exports/${what}`, 'Exports');
      if (q instanceof Response) return q;
      const format = (q.format ?? 'ndjson') as 'ndjson' | 'csv';
      if (what === 'digest') return c.json(await deps.review.exportDigest(periodOf(q), format), 200, { ...HEADERS, 'content-disposition': `attachment; filename="export.${format}.digest.json"` });
      return streamed(deps.review.exportChunks(periodOf(q), format), { ...HEADERS, 'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson', 'content-disposition': `attachment; filename="export.${format}"` });
    }));
  }

  app.get('/console/matrix', logged(deps, async (c) => {
    const who = await allowed(c, '/console/matrix');
    if (!('caller' in who)) return who;
    const q = await query(c, who, validateConsoleMatrix, 'GET /console/matrix', 'Matrix');
    if (q instanceof Response) return q;
    const at = q.at === undefined ? deps.now() : parseInstant(q.at, 'from');
    if (at === undefined) return send(c, 'Matrix', who, 'The date is not a real date or date-time.', 400);
    const covenant = deps.policy.current().covenant;
    // Worked out on the review thread, as the API's matrix; filtered here by the reviewer's fields.
    const text = await deps.review.matrix(covenant.policyVersion, at, 'json', () => renderMatrix(buildMatrix(covenant, at), 'json'));
    const m = JSON.parse(text) as Matrix;
    const under = (id: string, f: string | undefined): boolean => f === undefined || id === f || id.startsWith(`${f}.`);
    const rows = m.rows.filter(
      (r) => (q.provider === undefined || r.provider === q.provider) && (q.recipient === undefined || r.recipient === q.recipient) && under(r.category, q.category) && (q.legalBasis === undefined || r.legalBases.includes(q.legalBasis)),
    );
    return send(c, 'Matrix', who, matrixPage({ ...m, rows }, q));
  }));

  app.get('/console/what-if', logged(deps, async (c) => {
    const who = await allowed(c, '/console/what-if');
    if (!('caller' in who)) return who;
    return send(c, 'What if', who, whatIfPage(deps.policy.current().covenant, {}, who.csrf, undefined));
  }));

  app.post('/console/what-if', logged(deps, async (c) => {
    const who = await allowed(c, '/console/what-if');
    if (!('caller' in who)) return who;
    const fields = await form(c, validateConsoleWhatIf, who);
    if (fields instanceof Response) return fields;
    const covenant = deps.policy.current().covenant;
    const request = {
      provider: fields.provider,
      recipient: fields.recipient,
      dataCategories: (fields.dataCategories ?? '').split(',').map((x) => x.trim()).filter((x) => x !== ''),
      purpose: fields.purpose,
      legalBasis: fields.legalBasis,
      ...(fields.subjectCount && { subjectCount: /^\d+$/.test(fields.subjectCount) ? Number(fields.subjectCount) : fields.subjectCount }),
      ...(fields.pseudonymised === 'true' && { pseudonymised: true }),
      ...(fields.caseReference && { caseReference: fields.caseReference }),
      ...(fields.requestedAt && { requestedAt: fields.requestedAt }),
    };
    const outcome = await decideAndRecord({ ...deps, covenant: () => covenant }, who.caller, request, 'simulation', 'POST /console/what-if');
    const result =
      outcome.status === 200
        ? decisionView(outcome.decision, covenant)
        : `${outcome.title}: ${outcome.errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`;
    return send(c, 'What if', who, whatIfPage(covenant, fields, who.csrf, result), outcome.status === 200 ? 200 : outcome.status === 503 ? 503 : 400);
  }));

  const draftForm = async (c: Context<Env>, who: Who, values: Record<string, string>, report: Parameters<typeof draftPage>[3], status: 200 | 400 | 413 | 503 = 200): Promise<Response> => {
    const files = (await deps.archive?.get(deps.policy.current().covenant.policyVersion)) ?? [];
    return send(c, 'Draft check', who, draftPage(files.map((f) => f.name), values, who.csrf, report), status);
  };

  app.get('/console/draft', logged(deps, async (c) => {
    const who = await allowed(c, '/console/draft');
    if (!('caller' in who)) return who;
    return draftForm(c, who, {}, undefined);
  }));

  app.post('/console/draft', logged(deps, async (c) => {
    const who = await allowed(c, '/console/draft');
    if (!('caller' in who)) return who;
    const fields = await form(c, validateConsoleDraft, who, DRAFT_LIMIT);
    if (fields instanceof Response) return fields;
    const name = fields.file || fields.name;
    if (!name) return draftForm(c, who, fields, 'Choose the file to replace, or name the new file.', 400);
    const serving = deps.policy.current().covenant.policyVersion;
    const current = await deps.archive?.get(serving);
    if (!current || !deps.review.draft) return draftForm(c, who, fields, 'The serving version is not archived here, so a draft cannot be built on it.', 503);
    const files = [...current.filter((f) => f.name !== name).map((f) => ({ name: f.name, content: f.text })), { name, content: (fields.content ?? '').replace(/\r\n/g, '\n') }];
    const tests = await readTestFiles(deps.policy.folders);
    try {
      return await draftForm(c, who, fields, await deps.review.draft(files, tests, deps.now()));
    } catch (e) {
      if (!(e instanceof PostedWorkRefused)) throw e;
      return draftForm(c, who, fields, e.message, e.status === 503 ? 503 : 413);
    }
  }));

  app.get('/console/history', logged(deps, async (c) => {
    const who = await allowed(c, '/console/history');
    if (!('caller' in who)) return who;
    const q = await query(c, who, validateConsoleHistory, 'GET /console/history', 'History');
    if (q instanceof Response) return q;
    const serving = deps.policy.current().covenant.policyVersion;
    const all = deps.archive?.versions() ?? [];
    let diff: Parameters<typeof historyPage>[2];
    if (q.a !== undefined && q.b !== undefined) {
      const [a, b] = [await versions?.get(q.a), await versions?.get(q.b)];
      diff = a && b ? { a: q.a, b: q.b, diff: diffCovenants(a, b) } : 'One of these versions is not in the archive.';
    }
    return send(c, 'Policy history', who, historyPage(all, serving, diff));
  }));

  let coverage: { key: string; byRule: ReadonlyMap<string, readonly string[]> } | undefined;
  /** The tests exercising each rule; undefined when they could not be run (then tried again at the next view). */
  const testCoverage = async (policyVersion: string, tests: readonly { name: string; content: string }[]): Promise<Map<string, string[]> | undefined> => {
    const files = (await deps.archive?.get(policyVersion)) ?? [];
    if (files.length === 0 || !deps.review.draft) return undefined;
    const run = await deps.review.draft(files.map((f) => ({ name: f.name, content: f.text })), tests, deps.now(), false).catch(() => undefined);
    if (!run?.tests) return undefined;
    const byRule = new Map<string, string[]>();
    for (const t of run.tests.results) for (const r of t.rules) byRule.set(r, [...(byRule.get(r) ?? []), t.name]);
    return byRule;
  };

  app.get('/console/covenant', logged(deps, async (c) => {
    const who = await allowed(c, '/console/covenant');
    if (!('caller' in who)) return who;
    const v = deps.policy.current();
    // Which tests cover each article: the policy tests run on the review thread against the serving
    // files, once for each version and set of test files rather than at every view of the page.
    const tests = await readTestFiles(deps.policy.folders);
    const key = createHash('sha256').update(JSON.stringify([v.covenant.policyVersion, tests])).digest('hex');
    if (coverage?.key !== key) {
      const byRule = await testCoverage(v.covenant.policyVersion, tests);
      coverage = byRule && { key, byRule };
    }
    return send(c, 'Covenant', who, covenantPage(v.covenant, v.diagnostics.filter((d) => d.severity === 'warning'), deps.now(), coverage?.byRule ?? new Map()));
  }));

  return app;
}
