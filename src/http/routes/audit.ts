// /v1/audit: checking the log.
import { Hono } from 'hono';
import type { AppDeps, Env } from '../deps.js';
import { guarded } from '../middleware.js';

export function auditRoutes(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.get('/v1/audit/verify', guarded(deps, ['auditor'], async function verifyLog(c) {
    // On the review thread: hashing the whole log must not hold decisions up.
    const v = await deps.review.verify(deps.archive?.dir);
    // Entries are named by seq; the server's file paths stay on the server.
    const firstBad = v.firstBad && { seq: v.firstBad.seq, problem: v.firstBad.problem, message: v.firstBad.message };
    return c.json({ ok: v.ok, entries: v.entries, ...(v.head && { head: v.head }), ...(v.pruned && { pruned: v.pruned }), ...(firstBad && { firstBad }) });
  }));
  return app;
}
