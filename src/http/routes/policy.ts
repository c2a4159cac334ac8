// /v1/policy: what is loaded, and validating files before they are loaded.
import { basename, isAbsolute, relative as pathRelative, sep } from 'node:path';
import { Hono } from 'hono';
import type { Diagnostic } from '../../domain/types.js';
import { validateValidateBody } from '../../schema/index.js';
import type { AppDeps, Env } from '../deps.js';
import { filesLimit, guarded, postedRefused, validBody } from '../middleware.js';

export function policyRoutes(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();

  app.get('/v1/policy', guarded(deps, ['privacy-officer', 'auditor'], function getPolicy(c) {
    const v = deps.policy.current();
    const cov = v.covenant;
    const rejected = deps.policy.lastRejected();
    return c.json({
      policyVersion: cov.policyVersion,
      covenant: { id: cov.info.id, title: cov.info.title },
      loadedAt: v.loadedAt,
      files: cov.files,
      counts: { partners: cov.partners.size, dataCategories: cov.categories.size, purposes: cov.purposes.size, legalBases: cov.legalBases.size, rules: cov.rules.length },
      warnings: v.diagnostics.filter((d) => d.severity === 'warning').map((d) => relative(d, deps.policy.folders)),
      errors: rejected ? rejected.diagnostics.map((d) => relative(d, deps.policy.folders)) : [],
      ...(rejected && { lastRejectedAt: rejected.at }),
    });
  }));

  app.post('/v1/policy/validate', guarded(deps, ['privacy-officer'], async function validatePolicy(c) {
    const body = await validBody(c, deps, filesLimit(deps), validateValidateBody, 'POST /v1/policy/validate');
    if (body instanceof Response) return body;
    const files = (body.value as { files: { name: string; content: string }[] }).files;
    try {
      return c.json(await deps.review.validate(files, deps.now()));
    } catch (e) {
      return postedRefused(c, deps, 'POST /v1/policy/validate', e);
    }
  }));

  return app;
}

/** Diagnostics name files relative to the rule folders, never by the server's own paths. */
function relative(d: Diagnostic, folders: { policies: string; rules: string }): Diagnostic {
  if (d.file === undefined) return d;
  for (const [label, dir] of [['policies', folders.policies], ['rules', folders.rules]] as const) {
    const rel = pathRelative(dir, d.file);
    if (!rel.startsWith('..') && !isAbsolute(rel)) return { ...d, file: rel === '' ? label : `${label}/${rel.split(sep).join('/')}` };
  }
  return { ...d, file: basename(d.file) };
}
