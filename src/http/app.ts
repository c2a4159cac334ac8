// createApp(deps): the HTTP face of covenant. Knows nothing of files or clocks beyond its deps.
import { Hono } from 'hono';
import type { AppDeps, Env } from './deps.js';
import { ROUTES } from './deps.js';
import { identify, logged } from './middleware.js';
import { problem } from './problem.js';
import { decisionRoutes } from './routes/decisions.js';
import { policyRoutes } from './routes/policy.js';
import { auditRoutes } from './routes/audit.js';
import { reviewRoutes } from './routes/review.js';
import { approvalRoutes } from './routes/approvals.js';
import { docsRoutes } from './routes/docs.js';
import { consoleRoutes } from './console/routes.js';
import { openApiDocument } from './openapi.js';
import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares two secrets in time that does not depend on where they differ (their digests, equal in length). */
const sameSecret = (given: string, expected: string): boolean =>
  timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());

export function createApp(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const openapi = JSON.stringify(openApiDocument());

  // Every route has one handler, which logs it (and, under /v1, authenticates): see guarded().
  app.get('/healthz', logged(deps, (c) => c.json({ status: 'ok' })));
  app.get('/readyz', logged(deps, (c) => {
    const checks = { covenant: deps.policy.current() !== undefined, log: deps.log.writable(), checkpoint: deps.log.checkpointError?.() === undefined };
    const ready = checks.covenant && checks.log && checks.checkpoint;
    return c.json({ status: ready ? 'ready' : 'not ready', checks }, ready ? 200 : 503);
  }));
  app.get('/openapi.json', logged(deps, (c) => c.body(openapi, 200, { 'content-type': 'application/json' })));
  // Open by default, as Prometheus scrapes are; with a metrics key, only a scrape that sends it.
  app.get('/metrics', logged(deps, async (c) => {
    if (deps.metricsKey !== undefined && !sameSecret(/^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '', deps.metricsKey)) {
      return problem(c, 401, 'authentication required', [{ path: '', message: 'send `Authorization: Bearer <metrics key>`' }], { 'www-authenticate': 'Bearer' });
    }
    return c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType });
  }));

  app.route('/', decisionRoutes(deps));
  app.route('/', policyRoutes(deps));
  app.route('/', auditRoutes(deps));
  app.route('/', reviewRoutes(deps));
  app.route('/', approvalRoutes(deps));
  app.route('/', docsRoutes(deps));
  app.route('/', consoleRoutes(deps));

  app.notFound(logged(deps, (c) => {
    // Under /v1 a key comes first, as on the routes there: without one, not even a route's absence is told.
    if (/^\/v1(\/|$)/.test(c.req.path)) {
      const caller = identify(deps, c);
      if (caller instanceof Response) return caller;
    }
    const route = ROUTES.find((r) => r.path.test(c.req.path));
    if (route) {
      return problem(c, 405, 'method not allowed', [{ path: '', message: `${c.req.method} is not allowed here; use ${route.methods.join(' or ')}` }], { allow: route.methods.join(', ') });
    }
    return problem(c, 404, 'not found', [{ path: '', message: 'no such route; see /openapi.json' }]);
  }));

  app.onError((e, c) => {
    // Fail closed: an unexpected error is a 500 without internals, never a decision.
    deps.logger.error({ err: { message: e.message, name: e.name }, method: c.req.method, path: c.req.path, status: 500 }, 'unhandled error');
    return problem(c, 500, 'internal error', [{ path: '', message: 'the request could not be handled; nothing was decided' }]);
  });
  return app;
}
