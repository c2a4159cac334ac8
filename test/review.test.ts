// Privacy review (CONTRACT 5) through the routes and the commands, on a real log.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cli } from './helpers.js';
import { exampleRequest, testServer, type TestServer } from './server-helpers.js';

const DENY_INCOME = 'rules:\n  - { id: zz-no-income, citation: "Art. 99", effect: deny, categories: [fiscal.income] }\n';
let s: TestServer;
let dir: string;
const ids: { permit: string[]; deny: string[] } = { permit: [], deny: [] };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'covenant-review-'));
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  cpSync(join(ROOT, 'rules'), join(dir, 'rules'), { recursive: true });
  s = await testServer({ policies: join(dir, 'policies'), rules: join(dir, 'rules') });
  for (let i = 0; i < 3; i++) ids.permit.push((await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: exampleRequest })).body.decisionId);
  const assets = { ...exampleRequest, dataCategories: ['fiscal.assets'] };
  ids.permit.push((await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: assets })).body.decisionId);
  for (let i = 0; i < 2; i++) ids.deny.push((await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: { ...exampleRequest, recipient: 'om' } })).body.decisionId);
  await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: { ...exampleRequest, purpose: 'nope' } });
  await s.call('POST', '/v1/simulations', { key: s.keys.auditor, body: exampleRequest });
});
afterAll(async () => {
  await s.server.close();
});

describe('report', () => {
  it('counts decisions, refusals, simulations, pairs and reasons', async () => {
    const r = await s.call('GET', '/v1/audit/report', { key: s.keys['privacy-officer'] });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ decisions: { permit: 4, deny: 2 }, refusals: 1, simulations: 1, denialReasons: [{ code: 'no-permitting-rule', count: 2 }] });
    expect(r.body.byPair).toEqual(expect.arrayContaining([{ provider: 'belastingdienst', recipient: 'fiod', permit: 4, deny: 0 }, { provider: 'belastingdienst', recipient: 'om', permit: 0, deny: 2 }]));
    expect(r.body.policyVersions).toHaveLength(1);
    expect(r.body.refusalsByCaller[0]).toMatchObject({ role: 'partner', partner: 'belastingdienst', count: 1, statuses: { '422': 1 } });
    // denials by article, a weekly trend, the log verified, names from the covenant
    expect(r.body.trend).toMatchObject({ unit: 'week', points: [{ permit: 4, deny: 2 }] });
    expect(r.body.integrity).toMatchObject({ ok: true, entries: expect.any(Number), head: { seq: expect.any(Number) } });
    expect(r.body.names.partners.belastingdienst).toEqual({ nl: 'Belastingdienst', en: 'Tax Administration' });
    expect(r.body.policyVersions[0].wentLive).toMatch(/^\d{4}-/);
    const cliReport = cli(['audit', 'report', '--data', s.dataDir]);
    const { integrity: fromCli, ...restCli } = JSON.parse(cliReport.stdout);
    const { integrity: fromRoute, ...restRoute } = r.body;
    expect(restCli).toEqual(restRoute);
    expect({ ...fromCli, verifiedAt: 'x' }).toEqual({ ...fromRoute, verifiedAt: 'x' });
  });

  it('counts denials by the article that gave them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'covenant-report-rules-'));
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    cpSync(join(ROOT, 'rules'), join(dir, 'rules'), { recursive: true });
    writeFileSync(join(dir, 'rules', 'stop.yaml'), 'rules:\n  - { id: stop-income, citation: "Art. 97", effect: deny, categories: [fiscal.income] }\n');
    const t = await testServer({ policies: join(dir, 'policies'), rules: join(dir, 'rules') });
    try {
      for (let i = 0; i < 2; i++) await t.call('POST', '/v1/decisions', { key: t.keys.belastingdienst, body: exampleRequest });
      const r = await t.call('GET', '/v1/audit/report', { key: t.keys.auditor });
      expect(r.body.denialsByRule).toEqual([{ rule: 'stop-income', citation: 'Art. 97', count: 2 }]);
      const html = (await t.call('GET', '/v1/audit/report?format=html', { key: t.keys.auditor })).body as string;
      expect(html).toContain('<td>Art. 97</td><td>stop-income</td><td>2</td>');
      const empty = (await t.call('GET', '/v1/audit/report?format=html&from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z', { key: t.keys.auditor })).body as string;
      expect(empty).toContain('id="empty"');
      expect(empty).toContain('Nothing was recorded in this period');
    } finally {
      await t.server.close();
    }
  });

  it('renders as one self-contained HTML page whose figures match the JSON', async () => {
    const html = (await s.call('GET', '/v1/audit/report?format=html', { key: s.keys.auditor })).body as string;
    expect(html).toContain('<svg id="by-pair"');
    expect(html).toContain('<b id="permit">4</b>');
    expect(html).toContain('data-label="Belastingdienst / Tax Administration (belastingdienst) → FIOD / Fiscal Information and Investigation Service (fiod)" data-permit="4" data-deny="0"');
    expect(html).toContain('id="legend"');
    expect(html).toContain('@media print');
    expect(html).toMatch(/<p id="integrity" class="ok">/);
    expect(html).not.toContain('id="empty"');
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
  });

  it('is closed to partners', async () => {
    expect((await s.call('GET', '/v1/audit/report', { key: s.keys.belastingdienst })).status).toBe(403);
  });
});

describe('export', () => {
  it('streams every entry oldest first, as stored, with a digest tied to the chain', async () => {
    const res = await fetch(`${s.url}/v1/audit/export`, { headers: { authorization: `Bearer ${s.keys.auditor}` } });
    const text = await res.text();
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((e) => e.seq)).toEqual(lines.map((_, i) => i + 1));
    expect(lines.every((e) => e.hash && e.prevHash && e.kind)).toBe(true);
    const digest = (await s.call('GET', '/v1/audit/export/digest', { key: s.keys.auditor })).body;
    expect(digest).toMatchObject({ count: lines.length, lastHash: lines.at(-1).hash, sha256: `sha256:${createHash('sha256').update(text).digest('hex')}` });
    const csv = await (await fetch(`${s.url}/v1/audit/export?format=csv`, { headers: { authorization: `Bearer ${s.keys.auditor}` } })).text();
    expect(csv.trim().split('\n')).toHaveLength(lines.length + 1);
  });

  it('lets a recipient check an export on its own, and exposes a removed or altered line', () => {
    const out = join(dir, 'export.ndjson');
    const digest = join(dir, 'export.digest.json');
    const e = cli(['audit', 'export', '--data', s.dataDir, '--digest', digest]);
    expect(e.status).toBe(0);
    writeFileSync(out, e.stdout);
    expect(cli(['audit', 'verify', '--export', out, '--digest', digest]).status).toBe(0);
    const lines = e.stdout.trim().split('\n');
    const variant = (name: string, ls: string[]): string => {
      const p = join(dir, name);
      writeFileSync(p, ls.join('\n') + '\n');
      return p;
    };
    expect(cli(['audit', 'verify', '--export', variant('removed.ndjson', lines.filter((_, i) => i !== 2))]).status).toBe(1);
    expect(cli(['audit', 'verify', '--export', variant('altered.ndjson', lines.map((l, i) => (i === 1 ? l.replace('"permit"', '"deny"') : l)))]).status).toBe(1);
    const lastGone = variant('tail.ndjson', lines.slice(0, -1));
    expect(cli(['audit', 'verify', '--export', lastGone]).status).toBe(0);
    const r = cli(['audit', 'verify', '--export', lastGone, '--digest', digest]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/NOT intact/);
  });
});

describe('replay and impact', () => {
  it('replays a decision exactly, and shows what a reload changed and why', async () => {
    const first = await s.call('GET', `/v1/decisions/${ids.permit[0]}/replay`, { key: s.keys.auditor });
    expect(first.body).toMatchObject({ decisionId: ids.permit[0], reproduced: true, changed: false, recorded: { decision: 'permit' }, replayed: { decision: 'permit' } });

    const proposedDir = mkdtempSync(join(tmpdir(), 'covenant-proposed-'));
    cpSync(join(dir, 'policies'), join(proposedDir, 'policies'), { recursive: true });
    cpSync(join(dir, 'rules'), join(proposedDir, 'rules'), { recursive: true });
    writeFileSync(join(proposedDir, 'rules', 'zz.yaml'), DENY_INCOME);
    const files = ['policies', 'rules'].flatMap((folder) =>
      readdirSync(join(proposedDir, folder)).filter((f) => /\.ya?ml$/.test(f)).map((f) => ({ name: `${folder}/${f}`, content: readFileSync(join(proposedDir, folder, f), 'utf8') })),
    );
    const posted = await s.call('POST', '/v1/policy/impact', { key: s.keys['privacy-officer'], body: { files } });
    expect(posted.status).toBe(200);
    expect(posted.body.evaluated).toBe(6);
    expect(posted.body.flips.map((f: { decisionId: string }) => f.decisionId).sort()).toEqual(ids.permit.slice(0, 3).sort());
    expect(posted.body.flips[0]).toMatchObject({ recorded: 'permit', now: 'deny', rules: ['art-4-1-fiscal-to-fiod', 'zz-no-income'] });
    expect(posted.body.byRule).toEqual(expect.arrayContaining([{ rule: 'zz-no-income', flips: 3, toPermit: 0, toDeny: 3 }]));
    const viaCli = cli(['impact', '--format', 'json', '--data', s.dataDir, '--policies', join(proposedDir, 'policies'), '--rules', join(proposedDir, 'rules')]);
    expect(JSON.parse(viaCli.stdout).flips).toEqual(posted.body.flips);

    // now load the change, and replay again
    writeFileSync(join(dir, 'rules', 'zz.yaml'), DENY_INCOME);
    const deadline = Date.now() + 5000;
    let policy = first.body.recorded.policyVersion;
    while (policy === first.body.recorded.policyVersion && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      policy = (await s.call('GET', '/v1/policy', { key: s.keys.auditor })).body.policyVersion;
    }
    const again = await s.call('GET', `/v1/decisions/${ids.permit[0]}/replay`, { key: s.keys.auditor });
    expect(again.body).toMatchObject({ reproduced: true, changed: true, current: { decision: 'deny' }, rules: ['art-4-1-fiscal-to-fiod', 'zz-no-income'] });
    expect(again.body.differences).toEqual([expect.objectContaining({ category: 'fiscal.income' })]);
    const viaCliReplay = cli(['audit', 'replay', ids.permit[0]!, '--data', s.dataDir, '--policies', join(dir, 'policies'), '--rules', join(dir, 'rules')]);
    expect(viaCliReplay.status).toBe(0);
    expect(viaCliReplay.stdout).toMatch(/reproduced exactly[\s\S]*CHANGED/);
    expect((await s.call('GET', '/v1/decisions/01JD0000000000000000000000/replay', { key: s.keys.auditor })).status).toBe(404);
  });
});

describe('refusals on the review routes', () => {
  it('records a malformed impact body as a refusal, like every other route', async () => {
    const r = await s.call('POST', '/v1/policy/impact', { key: s.keys['privacy-officer'], raw: '{"files": [', headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    const last = await s.call('GET', '/v1/decisions?kind=refusal&limit=1', { key: s.keys.auditor });
    expect(last.body.items[0]).toMatchObject({ kind: 'refusal', route: 'POST /v1/policy/impact', status: 400 });
  });

  it('refuses a period that ends before it starts, on every route and command that takes one', async () => {
    const backwards = 'from=2025-06-01T00:00:00Z&to=2025-05-01T00:00:00Z';
    for (const path of [`/v1/audit/report?${backwards}`, `/v1/audit/export?${backwards}`, `/v1/audit/export/digest?${backwards}`, `/v1/decisions?${backwards}`]) {
      const r = await s.call('GET', path, { key: s.keys.auditor });
      expect(r.status, path).toBe(400);
      expect(r.body.errors, path).toEqual([{ path: '/to', message: expect.stringContaining('must not be before `from`') }]);
    }
    const impact = await s.call('POST', '/v1/policy/impact', {
      key: s.keys['privacy-officer'],
      body: { files: [{ name: 'policies/x.yaml', content: 'x: 1' }], from: '2025-06-01T00:00:00Z', to: '2025-05-01T00:00:00Z' },
    });
    expect(impact.status).toBe(400);
    expect((await s.call('GET', '/v1/audit/report?from=2025-05-01T00:00:00Z&to=2025-05-01T00:00:00Z', { key: s.keys.auditor })).status).toBe(200);
    for (const command of [['audit', 'report'], ['audit', 'export']]) {
      const run = cli([...command, '--data', s.dataDir, '--from', '2025-06-01', '--to', '2025-05-31']);
      expect(run.status, command.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/--to `2025-05-31` is before --from `2025-06-01`/);
    }
  });
});

describe('matrix route', () => {
  it('answers JSON and the other formats at a date', async () => {
    const m = await s.call('GET', '/v1/policy/matrix?at=2025-06-01', { key: s.keys['privacy-officer'] });
    expect(m.body.at).toBe('2025-06-01T00:00:00.000Z');
    expect(m.body.rows).toEqual(expect.arrayContaining([expect.objectContaining({ provider: 'belastingdienst', recipient: 'fiod', category: 'fiscal', rules: ['art-4-1-fiscal-to-fiod'] })]));
    // every row as the OpenAPI document describes it
    const rowSchema = (await s.call('GET', '/openapi.json')).body.components.schemas.MatrixRow;
    const valid = new Ajv({ strict: false }).compile(rowSchema);
    for (const row of m.body.rows) expect(valid(row), JSON.stringify(valid.errors)).toBe(true);
    const md = await s.call('GET', '/v1/policy/matrix?at=2025-06-01&format=md', { key: s.keys.auditor });
    // names beside ids
    expect(md.body).toMatch(/\| Belastingdienst[^|]*\(belastingdienst\) \| [^|]*\(fiod\) \| [^|]*\(fiscal\) \|/);
    expect((await s.call('GET', '/v1/policy/matrix?at=someday', { key: s.keys.auditor })).status).toBe(400);
    const viaCli = cli(['matrix', '--at', '2025-06-01', '--format', 'json', '--policies', join(dir, 'policies'), '--rules', join(dir, 'rules')]);
    expect(JSON.parse(viaCli.stdout).rows.length).toBeGreaterThan(10);
  });
});
