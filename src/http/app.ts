// createApp(deps): the HTTP face of covenant. Knows nothing of files or clocks beyond its deps.
import { Hono } from 'hono';
import type { AppDeps, Env } from './deps.js';
import { ROUTES } from './deps.js';
import { authenticate } from './middleware.js';
import { problem } from './problem.js';
import { decisionRoutes } from './routes/decisions.js';
import { policyRoutes } from './routes/policy.js';
import { auditRoutes } from './routes/audit.js';
import { reviewRoutes } from './routes/review.js';
import { openApiDocument } from './openapi.js';

export function createApp(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const openapi = JSON.stringify(openApiDocument());

  app.use('*', async function accessLog(c, next) {
    const started = process.hrtime.bigint();
    await next();
    // Never the key, never the body: method, route, status, time and which key was used. A
    // successful request is routine (the decision log and metrics keep it); the rest is news.
    const level = c.res.status < 400 ? 'debug' : 'info';
    if (!deps.logger.isLevelEnabled(level)) return;
    const caller = c.get('caller');
    deps.logger[level](
      { method: c.req.method, path: c.req.routePath, status: c.res.status, ms: Number(process.hrtime.bigint() - started) / 1e6, ...(caller && { keyId: caller.keyId, role: caller.role }) },
      'request',
    );
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const checks = { covenant: deps.policy.current() !== undefined, log: deps.log.writable() };
    const ready = checks.covenant && checks.log;
    return c.json({ status: ready ? 'ready' : 'not ready', checks }, ready ? 200 : 503);
  });
  app.get('/openapi.json', (c) => c.body(openapi, 200, { 'content-type': 'application/json' }));
  app.get('/metrics', async (c) => c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }));

  app.use('/v1/*', authenticate(deps));
  app.route('/', decisionRoutes(deps));
  app.route('/', policyRoutes(deps));
  app.route('/', auditRoutes(deps));
  app.route('/', reviewRoutes(deps));

  app.notFound((c) => {
    const route = ROUTES.find((r) => r.path.test(c.req.path));
    if (route) {
      return problem(c, 405, 'method not allowed', [{ path: '', message: `${c.req.method} is not allowed here; use ${route.methods.join(' or ')}` }], { allow: route.methods.join(', ') });
    }
    return problem(c, 404, 'not found', [{ path: '', message: 'no such route; see /openapi.json' }]);
  });

  app.onError((e, c) => {
    // Fail closed: an unexpected error is a 500 without internals, never a decision.
    deps.logger.error({ err: { message: e.message, name: e.name }, path: c.req.path }, 'unhandled error');
    return problem(c, 500, 'internal error', [{ path: '', message: 'the request could not be handled; nothing was decided' }]);
  });
  return app;
}
