// The public conformance sample (copied from shared/conformance): each test's name states the
// expected decision and the reason codes the decision must contain.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decide } from '../src/engine/index.js';
import { ROOT, cli, doc, mustCompile } from './helpers.js';

const DIR = join(ROOT, 'test', 'fixtures', 'conformance');
const read = (p: string): string => readFileSync(join(DIR, p), 'utf8');
const covenant = mustCompile(doc('policies/covenant.json', read('policies/covenant.json')), doc('rules/rules.json', read('rules/rules.json')));
const { tests } = JSON.parse(read('tests/sample.test.json')) as {
  tests: { name: string; request: Record<string, unknown>; expect: string; rules?: string[] }[];
};

describe('conformance sample through the engine', () => {
  it.each(tests)('$name', (t) => {
    const result = decide(covenant, t.request, { now: Date.parse('2025-01-01T00:00:00Z'), decisionId: 'x' });
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    const d = result.value;
    const [expected, ...codes] = t.name.replace(/^case \d+: /, '').split(', ');
    expect(d.decision).toBe(expected);
    expect([...new Set(d.reasons.map((r) => r.code))].sort()).toEqual([...new Set(codes)].sort());
    for (const id of t.rules ?? []) expect(d.categories.flatMap((c) => c.rules)).toContain(id);
  });
});

describe('conformance sample through the CLI', () => {
  it('passes `covenant test` with exit 0', () => {
    const r = cli(['test', join(DIR, 'tests'), '--policies', join(DIR, 'policies'), '--rules', join(DIR, 'rules')]);
    expect(r.stdout).toContain(`${tests.length} passed, 0 failed`);
    expect(r.status).toBe(0);
  });
});
