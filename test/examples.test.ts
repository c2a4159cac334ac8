// The files in examples/ are meant to be copied into a covenant: they must keep validating and
// passing their policy tests together with the example covenant, or they rot unseen.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT } from './helpers.js';
import { exampleRequest, testServer } from './server-helpers.js';

describe('examples/wgs-designation', () => {
  it('validates with the example covenant, and its policy tests pass, once copied in as its README says', () => {
    const dir = mkdtempSync(join(tmpdir(), 'covenant-example-'));
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    cpSync(join(ROOT, 'rules'), join(dir, 'rules'), { recursive: true });
    const example = join(ROOT, 'examples', 'wgs-designation');
    cpSync(join(example, 'legal-bases.yaml'), join(dir, 'policies', 'wgs.yaml'));
    cpSync(join(example, 'rules.yaml'), join(dir, 'rules', 'wgs.yaml'));
    cpSync(join(example, 'wgs.test.yaml'), join(dir, 'rules', 'wgs.test.yaml'));
    const folders = ['--policies', join(dir, 'policies'), '--rules', join(dir, 'rules')];
    const validated = cli(['validate', ...folders]);
    expect(validated.stdout + validated.stderr).toMatch(/valid: covenant `nsoc`.* 13 legal bases, 26 rules/);
    expect(validated.status).toBe(0);
    const tested = cli(['test', ...folders]);
    expect(tested.stdout).toMatch(/coverage: 26\/26 rules exercised\n40 passed, 0 failed/);
    expect(tested.status).toBe(0);
  });
});

describe('the served example covenant', () => {
  it('keeps fiscal data from going onward: what FIOD received from the Tax Administration it may not pass to OM, through the service', async () => {
    const s = await testServer();
    try {
      const received = await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: exampleRequest });
      expect(received.body.decision).toBe('permit');
      const until = new Date(Date.now() + 86_400_000).toISOString();
      expect((await s.call('POST', '/v1/approvals', { key: s.keys.approver, body: { kind: 'bevoegd-gezag', caseReference: 'NSOC-ONWARD', validUntil: until } })).status).toBe(201);
      const onward = { provider: 'fiod', recipient: 'om', dataCategories: ['financial.transactions'], purpose: 'nsoc.corruption-violence', legalBasis: 'wpg-19', caseReference: 'NSOC-ONWARD' };
      expect((await s.call('POST', '/v1/decisions', { key: s.keys.fiod, body: onward })).body.decision).toBe('permit');
      const passedOn = await s.call('POST', '/v1/decisions', { key: s.keys.fiod, body: { ...onward, derivedFrom: [received.body.decisionId] } });
      expect(passedOn.body.decision).toBe('deny');
      expect(passedOn.body.categories[0]).toMatchObject({ reason: 'denied-by-rule', rules: ['art-10-5-no-onward-fiscal-data'] });
    } finally {
      await s.server.close();
    }
  });
});
