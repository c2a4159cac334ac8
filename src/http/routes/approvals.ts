// /v1/approvals: the register of prior approvals. An approver grants one for a case and a period,
// or revokes it; approvers, privacy officers and auditors list them. Each grant and revocation is
// an entry of the log, written before the register changes and before the answer leaves.
import { Hono } from 'hono';
import type { Approval } from '../../approvals/register.js';
import type { EntryDraft } from '../../audit/types.js';
import { instantOf } from '../../compile/time.js';
import { validateApprovalsQuery, validateGrantBody } from '../../schema/index.js';
import type { AppDeps, Env } from '../deps.js';
import { guarded, refusal, validBody, validId, validQuery } from '../middleware.js';
import { problem } from '../problem.js';

export function approvalRoutes(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const register = deps.approvals;

  app.get('/v1/approvals', guarded(deps, ['approver', 'privacy-officer', 'auditor'], async function listApprovals(c) {
    const query = await validQuery(c, deps, validateApprovalsQuery, 'GET /v1/approvals');
    if (query instanceof Response) return query;
    return c.json({ items: register?.list(query) ?? [] });
  }));

  app.post('/v1/approvals', guarded(deps, ['approver'], async function grantApproval(c) {
    const route = 'POST /v1/approvals';
    const body = await validBody(c, deps, deps.bodyLimitBytes, validateGrantBody, route);
    if (body instanceof Response) return body;
    if (!register) return unavailable(c);
    const b = body.value as { kind: string; caseReference: string; validFrom?: string; validUntil: string; note?: string };
    const covenant = deps.policy.current().covenant;
    if (!covenant.approvals.has(b.kind)) {
      const known = [...covenant.approvals.keys()];
      return refusal(c, deps, route, 422, 'unknown approval kind', [
        { path: '/kind', message: `the covenant defines no approval kind \`${b.kind}\`; ${known.length > 0 ? `it defines: ${known.join(', ')}` : 'it defines none'}` },
      ]);
    }
    const now = deps.now();
    const from = b.validFrom === undefined ? now : instantOf(b.validFrom);
    const until = instantOf(b.validUntil);
    if (!(from <= until)) return refusal(c, deps, route, 422, 'empty validity period', [{ path: '/validUntil', message: `must not be before validFrom (${new Date(from).toISOString()})` }]);
    const caller = c.get('caller');
    const id = deps.newId(now);
    const at = new Date(now).toISOString();
    const approval: Approval = {
      id,
      kind: b.kind,
      caseReference: b.caseReference,
      validFrom: new Date(from).toISOString(),
      validUntil: new Date(until).toISOString(),
      grantedAt: at,
      grantedBy: caller.keyId,
      ...(b.note !== undefined && { note: b.note }),
    };
    // INVARIANT: in the log before in the register, so nothing relies on a grant the log lacks.
    const recorded = await record(deps, { kind: 'approval', id, at, caller, action: 'grant', approval });
    if (!recorded) return unavailable(c);
    await register.add(approval);
    return c.json(approval, 201);
  }));

  app.post('/v1/approvals/:id/revoke', guarded(deps, ['approver'], async function revokeApproval(c) {
    const route = 'POST /v1/approvals/{id}/revoke';
    const id = await validId(c, deps, route);
    if (id instanceof Response) return id;
    if (!register) return unavailable(c);
    const found = register.get(id);
    if (!found) return problem(c, 404, 'no such approval', [{ path: '/id', message: `no approval \`${id}\` is registered` }]);
    if (found.revokedAt !== undefined) return problem(c, 409, 'already revoked', [{ path: '/id', message: `approval \`${id}\` was revoked at ${found.revokedAt}` }]);
    const caller = c.get('caller');
    const now = deps.now();
    const at = new Date(now).toISOString();
    const revoked: Approval = { ...found, revokedAt: at, revokedBy: caller.keyId };
    const recorded = await record(deps, { kind: 'approval', id: deps.newId(now), at, caller, action: 'revoke', approval: revoked });
    if (!recorded) return unavailable(c);
    return c.json((await register.revoke(id, at, caller.keyId)) ?? revoked);
  }));

  return app;
}

async function record(deps: AppDeps, draft: EntryDraft): Promise<boolean> {
  try {
    await deps.log.append(draft);
    return true;
  } catch {
    return false;
  }
}

const unavailable = (c: Parameters<typeof problem>[0]): Response =>
  problem(c, 503, 'the approval could not be recorded', [{ path: '', message: 'the decision log is not writable; nothing was granted or revoked. Try again later' }]);
