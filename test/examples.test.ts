// The files in examples/ are meant to be copied into a covenant: they must keep validating and
// passing their policy tests together with the example covenant, or they rot unseen.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT } from './helpers.js';

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
    expect(validated.stdout + validated.stderr).toMatch(/valid: covenant `nsoc`.* 13 legal bases, 25 rules/);
    expect(validated.status).toBe(0);
    const tested = cli(['test', ...folders]);
    expect(tested.stdout).toMatch(/coverage: 25\/25 rules exercised\n38 passed, 0 failed/);
    expect(tested.status).toBe(0);
  });
});
