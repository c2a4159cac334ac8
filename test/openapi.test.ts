// The OpenAPI document: valid OpenAPI 3.1 by a real validator, and a client generated from it
// (openapi-typescript types, openapi-fetch) drives the service as an integrator would.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDecision } from '../src/schema/index.js';
import { generateClientTypes } from '../scripts/gen-client.js';
import type { paths } from './generated/api.js';
import { ROOT } from './helpers.js';
import { exampleRequest, testServer, type TestServer } from './server-helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
});
afterAll(async () => {
  await s.server.close();
});

const client = (key: string) => createClient<paths>({ baseUrl: s.url, headers: { authorization: `Bearer ${key}` } });

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const doc = (await s.call('GET', '/openapi.json')).body;
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('matches the committed client types (run `npm run gen:client` after changing the API)', async () => {
    expect(readFileSync(join(ROOT, 'test', 'generated', 'api.d.ts'), 'utf8')).toBe(await generateClientTypes());
  });
});

describe('a generated client', () => {
  it('decides, simulates, reads the log back and verifies it', async () => {
    const partner = client(s.keys.belastingdienst!);
    const decided = await partner.POST('/v1/decisions', { body: { ...exampleRequest, subjectCount: 3, context: { dpiaReference: 'DPIA-17' } } });
    expect(decided.response.status).toBe(200);
    expect(validateDecision(decided.data)).toEqual([]);
    expect(decided.data?.decision).toBe('permit');

    const refused = await partner.POST('/v1/decisions', { body: { ...exampleRequest, purpose: 'nope' } });
    expect(refused.response.status).toBe(422);
    expect(refused.error?.errors[0]?.path).toBe('/purpose');

    const officer = client(s.keys['privacy-officer']!);
    const sim = await officer.POST('/v1/simulations', { body: { ...exampleRequest, requestedAt: '2030-01-01T00:00:00Z' } });
    expect(sim.data?.decision).toBe('deny');
    const policy = await officer.GET('/v1/policy');
    expect(policy.data?.policyVersion).toBe(decided.data?.policyVersion);
    const validated = await officer.POST('/v1/policy/validate', { body: { files: [{ name: 'rules/x.yaml', content: 'rules: []' }] } });
    expect(validated.data?.valid).toBe(false);

    const auditor = client(s.keys.auditor!);
    const one = await auditor.GET('/v1/decisions/{id}', { params: { path: { id: decided.data!.decisionId } } });
    expect(one.data?.id).toBe(decided.data?.decisionId);
    const list = await auditor.GET('/v1/decisions', { params: { query: { kind: 'all', limit: '10' } } });
    expect(list.data?.items.length).toBeGreaterThanOrEqual(3);
    const verified = await auditor.GET('/v1/audit/verify');
    expect(verified.data?.ok).toBe(true);
  });
});
