// /v1/decisions and /v1/simulations: deciding, and reading the log back.
import { Hono, type Context } from 'hono';
import { decideAndRecord, refuse, type Outcome } from '../../service/decisions.js';
import { validateDecideQuery, validateListQuery } from '../../schema/index.js';
import type { AppDeps, Env } from '../deps.js';
import { guarded, listFilterOf, readJson, validId, validQuery } from '../middleware.js';
import { problem } from '../problem.js';

const JSON_TYPE = { 'content-type': 'application/json' } as const;

export function decisionRoutes(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();

  const decisionDeps = { ...deps, covenant: () => deps.policy.current().covenant };
  const decideRoute = (kind: 'decision' | 'simulation', route: string) => {
    // The metric series of this route, looked up once rather than by their labels on every request.
    const seconds = deps.metrics.decisionSeconds.labels(kind);
    const counted = { permit: deps.metrics.decisions.labels(kind, 'permit'), deny: deps.metrics.decisions.labels(kind, 'deny') };
    return async function decide(c: Context<Env>): Promise<Response> {
      const caller = c.get('caller');
      const started = process.hrtime.bigint();
      // Most requests carry no query: the URL is parsed only when one does.
      let tied = false;
      if (c.req.url.includes('?')) {
        const query = await validQuery(c, deps, validateDecideQuery, route);
        if (query instanceof Response) return query;
        tied = query.receipt === 'full';
      }
      const body = await readJson(c, deps.bodyLimitBytes);
      const outcome: Outcome = body.ok
        ? await decideAndRecord(decisionDeps, caller, body.value, kind, route, tied)
        : await refuse(deps, caller, route, { status: body.status, title: body.title, errors: [{ path: '', message: body.message }] });
      if (outcome.status === 200) {
        counted[outcome.decision.decision].inc();
        seconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        return c.body(outcome.body, 200, JSON_TYPE);
      }
      if (outcome.status === 503) deps.logger.error({ route }, 'decision log not writable: answered 503');
      else deps.metrics.refusals.inc({ status: String(outcome.status) });
      return problem(c, outcome.status, outcome.title, outcome.errors);
    };
  };

  app.post('/v1/decisions', guarded(deps, ['partner'], decideRoute('decision', 'POST /v1/decisions')));
  app.post('/v1/simulations', guarded(deps, ['privacy-officer', 'auditor'], decideRoute('simulation', 'POST /v1/simulations')));

  app.get('/v1/decisions', guarded(deps, ['auditor'], async function listDecisions(c) {
    const query = await validQuery(c, deps, validateListQuery, 'GET /v1/decisions');
    if (query instanceof Response) return query;
    const filter = listFilterOf(query);
    // On the review thread: a filter that matches little reads far back through the log.
    const page = await deps.review.list(filter, { limit: Number(query.limit ?? 50), ...(query.cursor !== undefined && { before: Number(query.cursor) }) });
    return c.json({ items: page.items, ...(page.next !== undefined && { nextCursor: String(page.next) }) });
  }));

  app.get('/v1/decisions/:id', guarded(deps, ['auditor'], async function getDecision(c) {
    const id = await validId(c, deps, 'GET /v1/decisions/:id');
    if (id instanceof Response) return id;
    const entry = await deps.log.get(id);
    if (!entry) return problem(c, 404, 'no such decision', [{ path: '/id', message: `no entry with id \`${id}\`` }]);
    return c.json(entry);
  }));

  return app;
}
