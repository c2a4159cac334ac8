// /v1/audit: checking the log, and the proofs that let others check it without trusting us.
import { Hono } from 'hono';
import type { AppDeps, Env } from '../deps.js';
import type { Caller, LogEntry } from '../../audit/types.js';
import { validateConsistencyQuery, validateInclusionQuery } from '../../schema/index.js';
import { guarded, logged, validQuery } from '../middleware.js';
import { problem } from '../problem.js';
import { leafOfLine } from '../../audit/log-tree.js';

const TEXT = { 'content-type': 'text/plain; charset=utf-8' } as const;
const EVERY_ROLE = ['partner', 'privacy-officer', 'auditor'] as const;

/** A partner sees the entries it asked for and the exchanges it is a party to; reviewers see all. */
function mayProve(caller: Caller, entry: LogEntry): boolean {
  if (caller.role !== 'partner') return true;
  if ('caller' in entry && entry.caller.keyId === caller.keyId) return true;
  return 'decision' in entry && (entry.request.provider === caller.partner || entry.request.recipient === caller.partner);
}

/**
 * The stored line around a decision, which ties a receipt to the answer it came with. INVARIANT:
 * a stored line is JSON.stringify of its entry (src/audit/chain.ts); checked against the leaf.
 */
function entryParts(entry: LogEntry, leafHash: string): { before: string; after: string } | undefined {
  if (entry.kind !== 'decision' && entry.kind !== 'simulation') return undefined;
  const line = JSON.stringify(entry);
  const decision = JSON.stringify(entry.decision);
  // A request's context holds only scalars, so this text can only be the decision member itself.
  const at = line.indexOf(`"decision":${decision}`) + '"decision":'.length;
  const parts = { before: line.slice(0, at), after: line.slice(at + decision.length) };
  return leafOfLine(line).toString('base64') === leafHash ? parts : undefined;
}

export function auditRoutes(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.get('/v1/audit/verify', guarded(deps, ['auditor'], async function verifyLog(c) {
    // On the review thread: hashing the whole log must not hold decisions up.
    const v = await deps.review.verify();
    // Entries are named by seq; the server's file paths stay on the server.
    const firstBad = v.firstBad && { seq: v.firstBad.seq, problem: v.firstBad.problem, message: v.firstBad.message };
    return c.json({ ok: v.ok, entries: v.entries, ...(v.head && { head: v.head }), ...(v.pruned && { pruned: v.pruned }), ...(firstBad && { firstBad }) });
  }));

  // The verifier key is public: partners and witnesses pin it (and should get it out of band too).
  app.get('/v1/audit/log-key', logged(deps, function logKey(c) {
    if (deps.logKey === undefined) return problem(c, 404, 'no log key', [{ path: '', message: 'this log signs no checkpoints' }]);
    return c.body(`${deps.logKey}\n`, 200, TEXT);
  }));

  app.get('/v1/audit/checkpoint', guarded(deps, EVERY_ROLE, async function checkpoint(c) {
    const latest = await deps.log.latestCheckpoint();
    if (!latest) return problem(c, 404, 'no checkpoint', [{ path: '', message: 'this log signs no checkpoints' }]);
    return c.body(latest.note, 200, TEXT);
  }));

  app.get('/v1/audit/inclusion', guarded(deps, EVERY_ROLE, async function inclusion(c) {
    const query = await validQuery(c, deps, validateInclusionQuery, 'GET /v1/audit/inclusion');
    if (query instanceof Response) return query;
    const entry = await deps.log.get(query.id as string);
    // An entry the caller may not see is answered as one that does not exist.
    if (!entry || !mayProve(c.get('caller'), entry)) return problem(c, 404, 'no such entry', [{ path: '/id', message: `no entry with id \`${query.id}\` that you may see` }]);
    const size = query.treeSize === undefined ? undefined : Number(query.treeSize);
    const proof = await deps.log.inclusion(entry.seq, size);
    if (!proof) return problem(c, 404, 'no such tree size', [{ path: '/treeSize', message: `entry ${entry.seq} is not in a tree of size ${size ?? 'the latest checkpoint'}` }]);
    const parts = entryParts(entry, proof.leafHash);
    return c.json({ ...proof, ...(parts && { entry: parts }) });
  }));

  app.get('/v1/audit/consistency', guarded(deps, EVERY_ROLE, async function consistency(c) {
    const query = await validQuery(c, deps, validateConsistencyQuery, 'GET /v1/audit/consistency');
    if (query instanceof Response) return query;
    const latest = await deps.log.latestCheckpoint();
    const from = Number(query.from);
    const to = query.to === undefined ? latest?.size : Number(query.to);
    const proof = to === undefined ? undefined : await deps.log.consistency(from, to);
    if (to === undefined || !proof) return problem(c, 404, 'no such tree sizes', [{ path: '', message: `no consistency proof from ${from} to ${to ?? 'the latest checkpoint'}: the sizes must satisfy 1 <= from <= to <= the log's size` }]);
    return c.json({ from, to, proof, ...(query.to === undefined && latest && { checkpoint: latest.note }) });
  }));
  return app;
}
