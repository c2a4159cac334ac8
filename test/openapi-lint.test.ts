// /openapi.json under the rules of the two common OpenAPI linters, run as libraries: Redocly's
// recommended rules and Spectral's `spectral:oas`. Errors fail; warnings (descriptions and tags
// on every operation, a license) are style, and are left.
import { createConfig, lint } from '@redocly/openapi-core';
import spectralCore from '@stoplight/spectral-core';
import Parsers from '@stoplight/spectral-parsers';
import { oas } from '@stoplight/spectral-rulesets';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../src/http/openapi.js';

const text = JSON.stringify(openApiDocument(), null, 1);

describe('/openapi.json', () => {
  it('has no error under Redocly\'s recommended rules', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'covenant-openapi-')), 'openapi.json');
    writeFileSync(file, text);
    const problems = await lint({ ref: file, config: await createConfig({ extends: ['recommended'] }) });
    const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
    expect(errors).toEqual([]);
  });

  it('has no error under Spectral\'s OpenAPI rules', async () => {
    const spectral = new spectralCore.Spectral();
    spectral.setRuleset({ extends: [[oas, 'recommended']] } as never);
    const results = await spectral.run(new spectralCore.Document(text, Parsers.Json, 'openapi.json'));
    // severity 0 is an error in Spectral's scale
    const errors = results.filter((r) => r.severity === 0).map((r) => `${r.code} at ${r.path.join('.')}: ${r.message}`);
    expect(errors).toEqual([]);
  });
});
