// The privacy-review routes (CONTRACT 5): export, report, replay, impact and the matrix. For
// auditors and privacy officers.
import { Hono } from 'hono';
import { renderReportHtml } from '../../service/report-html.js';
import { namesOf } from '../../service/report.js';
import { replay, VersionCache } from '../../service/review.js';
import { buildMatrix, renderMatrix, type MatrixFormat } from '../../engine/matrix.js';
import { parseInstant } from '../../compile/time.js';
import { validateExportQuery, validateImpactBody, validateMatrixQuery, validateReportQuery } from '../../schema/index.js';
import type { AppDeps, Env } from '../deps.js';
import { filesLimit, guarded, periodOf, postedRefused, refused, streamed, validBody, validId, validQuery, type RouteHandler } from '../middleware.js';
import { problem } from '../problem.js';

export function reviewRoutes(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const reviewers = (handler: RouteHandler): RouteHandler => guarded(deps, ['auditor', 'privacy-officer'], handler);
  const versions = deps.archive && new VersionCache(deps.archive);

  app.get('/v1/audit/export', reviewers(async function exportEntries(c) {
    const q = await validQuery(c, deps, validateExportQuery, 'GET /v1/audit/export');
    if (q instanceof Response) return q;
    const format = (q.format ?? 'ndjson') as 'ndjson' | 'csv';
    // Read on the review thread.
    return streamed(deps.review.exportChunks(periodOf(q), format), { 'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson' });
  }));

  app.get('/v1/audit/export/digest', reviewers(async function exportDigest(c) {
    const q = await validQuery(c, deps, validateExportQuery, 'GET /v1/audit/export/digest');
    if (q instanceof Response) return q;
    // On the review thread, as the report: reading the whole log must not hold decisions up.
    return c.json(await deps.review.exportDigest(periodOf(q), (q.format ?? 'ndjson') as 'ndjson' | 'csv'));
  }));

  app.get('/v1/audit/report', reviewers(async function report(c) {
    const q = await validQuery(c, deps, validateReportQuery, 'GET /v1/audit/report');
    if (q instanceof Response) return q;
    const r = await deps.review.report(periodOf(q), namesOf(deps.policy.current().covenant), deps.now());
    if (q.format === 'html') return c.html(renderReportHtml(r, new Date(deps.now()).toISOString()));
    return c.json(r);
  }));

  app.get('/v1/decisions/:id/replay', reviewers(async function replayDecision(c) {
    const id = await validId(c, deps, 'GET /v1/decisions/:id/replay');
    if (id instanceof Response) return id;
    if (!versions) return problem(c, 503, 'no policy archive', [{ path: '', message: 'this service keeps no archive of policy versions' }]);
    const r = await replay(deps.log, versions, deps.policy.current().covenant, id);
    if (!r.ok) return problem(c, r.status, r.status === 404 ? 'no such decision' : 'cannot replay', [{ path: '/id', message: r.message }]);
    return c.json(r.value);
  }));

  app.post('/v1/policy/impact', reviewers(async function policyImpact(c) {
    const body = await validBody(c, deps, filesLimit(deps), validateImpactBody, 'POST /v1/policy/impact');
    if (body instanceof Response) return body;
    const b = body.value as { files: { name: string; content: string }[]; from?: string; to?: string };
    let report: Awaited<ReturnType<typeof deps.review.impact>>;
    try {
      report = await deps.review.impact(b.files, periodOf(b));
    } catch (e) {
      return postedRefused(c, deps, 'POST /v1/policy/impact', e);
    }
    if ('invalid' in report) {
      return problem(c, 422, 'the posted rule files are invalid', report.invalid.map((d) => ({ path: `${d.file ?? ''}:${d.line ?? ''}${d.path ?? ''}`, message: d.message })));
    }
    return c.json(report.impact);
  }));

  app.get('/v1/policy/matrix', reviewers(async function matrix(c) {
    const q = await validQuery(c, deps, validateMatrixQuery, 'GET /v1/policy/matrix');
    if (q instanceof Response) return q;
    const at = q.at === undefined ? deps.now() : parseInstant(q.at, 'from');
    if (at === undefined) return refused(c, deps, 'GET /v1/policy/matrix', [{ path: '/at', message: 'must be a real date or date-time' }]);
    const format = (q.format ?? 'json') as MatrixFormat;
    const covenant = deps.policy.current().covenant;
    const text = await deps.review.matrix(covenant.policyVersion, at, format, () => renderMatrix(buildMatrix(covenant, at), format));
    const types = { json: 'application/json', md: 'text/markdown; charset=utf-8', csv: 'text/csv; charset=utf-8', html: 'text/html; charset=utf-8' } as const;
    return c.body(text, 200, { 'content-type': types[format] });
  }));

  return app;
}
