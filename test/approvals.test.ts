// Prior approvals through the service (issue 18, item 3): granted by an approver for a case and a
// period, in the log before they count, relied on by decisions and recorded with them, revocable,
// and replayed as they stood.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliAsync } from './helpers.js';
import { testServer, type TestServer } from './server-helpers.js';

// Art. 19 Wpg needs the competent authority's consent (the example covenant's `bevoegd-gezag`).
const exchange = { provider: 'fiod', recipient: 'om', dataCategories: ['financial.transactions'], purpose: 'nsoc.corruption-violence', legalBasis: 'wpg-19' };
const inAYear = new Date(Date.now() + 365 * 86_400_000).toISOString();

describe('prior approvals', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await testServer();
  });
  afterAll(async () => {
    await s.server.close();
  });

  const decide = (caseReference?: string) => s.call('POST', '/v1/decisions', { key: s.keys.fiod, body: { ...exchange, ...(caseReference && { caseReference }) } });
  const grant = (body: Record<string, unknown>, key = s.keys.approver) => s.call('POST', '/v1/approvals', { key, body });

  it('deny with approval-required, naming the kind and the case, until one is granted; then permit and record what was relied on', async () => {
    const before = await decide('NSOC-A');
    expect(before.status).toBe(200);
    expect(before.body.decision).toBe('deny');
    expect(before.body.categories[0]).toMatchObject({ decision: 'deny', reason: 'approval-required' });
    const reason = before.body.reasons.find((r: { code: string }) => r.code === 'approval-required');
    expect(reason.approvals).toEqual(['bevoegd-gezag']);
    expect(reason.message.en).toMatch(/requires Consent of the competent authority \(bevoegd-gezag\) \(Art\. 19 lid 1 Wpg\) first; none is in force for case NSOC-A at /);
    expect(reason.message.nl).toMatch(/vereist vooraf Instemming van het bevoegd gezag \(bevoegd-gezag\).*voor zaak NSOC-A is die op .* niet van kracht/);

    const granted = await grant({ kind: 'bevoegd-gezag', caseReference: 'NSOC-A', validUntil: inAYear, note: 'OvJ Rotterdam, 2026/123' });
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({ kind: 'bevoegd-gezag', caseReference: 'NSOC-A', validUntil: inAYear, note: 'OvJ Rotterdam, 2026/123' });

    const after = await decide('NSOC-A');
    expect(after.body.decision).toBe('permit');
    // bound to its case: another case still lacks it, and so does a request naming none
    expect((await decide('NSOC-B')).body.decision).toBe('deny');
    const noCase = await decide();
    expect(noCase.body.reasons.find((r: { code: string }) => r.code === 'approval-required').message.en).toMatch(/names no case \(caseReference\)/);

    const entry = await s.call('GET', `/v1/decisions/${after.body.decisionId}`, { key: s.keys.auditor });
    expect(entry.body.approvals).toEqual([{ id: granted.body.id, kind: 'bevoegd-gezag' }]);
    const grantEntry = await s.call('GET', `/v1/decisions/${granted.body.id}`, { key: s.keys.auditor });
    expect(grantEntry.body).toMatchObject({ kind: 'approval', action: 'grant', approval: { id: granted.body.id }, caller: { role: 'approver' } });

    // revoked: decisions from now on deny; the permit made with it replays as it was
    const revoked = await s.call('POST', `/v1/approvals/${granted.body.id}/revoke`, { key: s.keys.approver });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toBeDefined();
    expect((await decide('NSOC-A')).body.decision).toBe('deny');
    const replay = await s.call('GET', `/v1/decisions/${after.body.decisionId}/replay`, { key: s.keys.auditor });
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ reproduced: true, replayed: { decision: 'permit' }, current: { decision: 'permit' }, changed: false });
    expect((await s.call('POST', `/v1/approvals/${granted.body.id}/revoke`, { key: s.keys.approver })).status).toBe(409);

    const listed = await s.call('GET', '/v1/approvals?caseReference=NSOC-A', { key: s.keys.auditor });
    expect(listed.body.items).toEqual([expect.objectContaining({ id: granted.body.id, revokedAt: revoked.body.revokedAt })]);
    const log = await s.call('GET', '/v1/decisions?kind=approval', { key: s.keys.auditor });
    expect(log.body.items.map((e: { action: string }) => e.action).sort()).toEqual(['grant', 'revoke']);
    const csv = await s.call('GET', '/v1/audit/export?format=csv', { key: s.keys.auditor });
    expect(csv.body).toMatch(new RegExp(`,approval,[^\\n]*,"grant ${granted.body.id}: bevoegd-gezag for case NSOC-A, `));
  });

  it('counts only within its period, for the exchange it covers', async () => {
    const past = await grant({ kind: 'bevoegd-gezag', caseReference: 'NSOC-C', validFrom: '2024-01-01T00:00:00Z', validUntil: '2024-12-31T23:59:59Z' });
    expect(past.status).toBe(201);
    expect((await decide('NSOC-C')).body.decision).toBe('deny');
  });

  it('refuses what is not an approver’s to grant, a kind the covenant lacks, an empty period and a malformed body', async () => {
    expect((await grant({ kind: 'bevoegd-gezag', caseReference: 'X', validUntil: inAYear }, s.keys.fiod)).status).toBe(403);
    const unknown = await grant({ kind: 'officier', caseReference: 'X', validUntil: inAYear });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors[0]).toMatchObject({ path: '/kind', message: expect.stringMatching(/defines no approval kind `officier`; it defines: bevoegd-gezag/) });
    expect((await grant({ kind: 'bevoegd-gezag', caseReference: 'X', validFrom: inAYear, validUntil: '2025-01-01T00:00:00Z' })).status).toBe(422);
    expect((await grant({ kind: 'bevoegd-gezag', caseReference: 'X' })).status).toBe(400);
    expect((await grant({ kind: 'bevoegd-gezag', caseReference: 'X', validUntil: inAYear, extra: 1 })).status).toBe(400);
    expect((await s.call('POST', '/v1/approvals/01ARZ3NDEKTSV4RRFFQ69G5FAV/revoke', { key: s.keys.approver })).status).toBe(404);
    expect((await s.call('GET', '/v1/approvals', { key: s.keys.fiod })).status).toBe(403);
  });

  it('are granted, listed and revoked with `covenant approvals` against the service, the key from the environment', async () => {
    const env = { COVENANT_API_KEY: s.keys.approver ?? '' };
    const granted = await cliAsync(['approvals', 'grant', '--url', s.url, '--kind', 'bevoegd-gezag', '--case', 'NSOC-CLI', '--until', inAYear, '--note', 'OvJ 2026/7'], { env });
    expect(granted.stderr).toBe('');
    expect(granted.status).toBe(0);
    const approval = JSON.parse(granted.stdout) as { id: string; caseReference: string };
    expect(approval.caseReference).toBe('NSOC-CLI');
    expect((await decide('NSOC-CLI')).body.decision).toBe('permit');
    const listed = await cliAsync(['approvals', 'list', '--url', s.url, '--case', 'NSOC-CLI'], { env });
    expect(listed.stdout).toMatch(new RegExp(`^${approval.id}  bevoegd-gezag  case NSOC-CLI  `));
    const revoked = await cliAsync(['approvals', 'revoke', approval.id, '--url', s.url], { env });
    expect(revoked.status).toBe(0);
    expect((await decide('NSOC-CLI')).body.decision).toBe('deny');
    // refused by the service: exit 1, with its reasons; bad arguments: exit 2
    const again = await cliAsync(['approvals', 'revoke', approval.id, '--url', s.url], { env });
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/409 already revoked/);
    const partner = await cliAsync(['approvals', 'grant', '--url', s.url, '--kind', 'bevoegd-gezag', '--case', 'X', '--until', inAYear], { env: { COVENANT_API_KEY: s.keys.fiod ?? '' } });
    expect(partner.status).toBe(1);
    expect(partner.stderr).toMatch(/403 forbidden/);
    expect((await cliAsync(['approvals', 'grant', '--url', s.url, '--kind', 'bevoegd-gezag'], { env })).status).toBe(2);
    expect((await cliAsync(['approvals', 'list'], { env })).status).toBe(2);
  });

  it('can be assumed by `covenant decide --approvals` for a what-if, and only of kinds the covenant defines', () => {
    const request = JSON.stringify({ ...exchange, caseReference: 'Z-9' });
    expect(JSON.parse(cli(['decide'], { input: request }).stdout).decision).toBe('deny');
    expect(JSON.parse(cli(['decide', '--approvals', 'bevoegd-gezag'], { input: request }).stdout).decision).toBe('permit');
    const unknown = cli(['decide', '--approvals', 'nope'], { input: request });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/`nope`, which the covenant does not define as approval kinds/);
  });
});
