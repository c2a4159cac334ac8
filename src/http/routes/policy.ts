// /v1/policy: what is loaded, and validating files before they are loaded.
import { basename, isAbsolute, relative as pathRelative, sep } from 'node:path';
import { Hono } from 'hono';
import type { ParsedDocument, Diagnostic } from '../../domain/types.js';
import { compileCovenant, hasErrors } from '../../compile/index.js';
import { parseText } from '../../loader/parse.js';
import { validateValidateBody } from '../../schema/index.js';
import type { AppDeps, Env } from '../deps.js';
import { allow, filesLimit, readJson, refusal } from '../middleware.js';
import { refused } from './decisions.js';

export function policyRoutes(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();

  app.get('/v1/policy', allow(deps, 'privacy-officer', 'auditor'), function getPolicy(c) {
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
  });

  app.post('/v1/policy/validate', allow(deps, 'privacy-officer'), async function validatePolicy(c) {
    const body = await readJson(c, filesLimit(deps));
    if (!body.ok) return refusal(c, deps, 'POST /v1/policy/validate', body.status, body.title, [{ path: '', message: body.message }]);
    const errors = validateValidateBody(body.value);
    if (errors.length > 0) return refused(c, deps, 'POST /v1/policy/validate', errors);
    const files = (body.value as { files: { name: string; content: string }[] }).files;
    const documents: ParsedDocument[] = [];
    const diagnostics: Diagnostic[] = [];
    for (const f of files) {
      if (/\.test\.(ya?ml|json)$/i.test(f.name)) continue;
      const parsed = parseText(f.name, f.content);
      if (parsed.ok) documents.push(parsed.document);
      else diagnostics.push(...parsed.diagnostics);
    }
    const compiled = diagnostics.length > 0 ? { diagnostics } : compileCovenant(documents, { now: deps.now() });
    const all = [...compiled.diagnostics];
    const valid = !hasErrors(all) && 'covenant' in compiled && compiled.covenant !== undefined;
    return c.json({
      valid,
      ...(valid && 'covenant' in compiled && compiled.covenant && { policyVersion: compiled.covenant.policyVersion }),
      errors: all.filter((d) => d.severity === 'error').length,
      warnings: all.filter((d) => d.severity === 'warning').length,
      diagnostics: all,
    });
  });

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
