// The fast way of reading .json rule files (JSON.parse and jsonc-parser) against the YAML parser
// that read them before: the same value, the same line and column for every key and value, and
// the same refusal of a key that appears twice.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseText } from '../src/loader/parse.js';

type Path = (string | number)[];

function pathsOf(value: unknown, at: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [at];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [at, ...entries.flatMap(([k, v]) => pathsOf(v, [...at, k]))];
}

const both = (text: string) => {
  const fast = parseText('/r/rules.json', text, 'rules.json');
  const yaml = parseText('/r/rules.yaml', text, 'rules.json');
  return { fast, yaml };
};

describe('a .json rule file read the fast way', () => {
  it('gives the value and positions the YAML parser gives, for any JSON and any layout', () => {
    const key = fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__');
    const value = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(key, tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 5 }), fc.constantFrom(undefined, 0, 1, 2, '\t'), (doc, indent) => {
        const text = JSON.stringify(doc, null, indent);
        const { fast, yaml } = both(text);
        expect(fast.ok && yaml.ok).toBe(true);
        if (!fast.ok || !yaml.ok) return;
        expect(fast.document.value).toEqual(yaml.document.value);
        for (const path of [...pathsOf(doc), ['missing'], [...(pathsOf(doc).at(-1) ?? []), 'deeper']]) {
          expect([path, fast.document.locate(path)]).toEqual([path, yaml.document.locate(path)]);
          expect([path, fast.document.locate(path, 'key')]).toEqual([path, yaml.document.locate(path, 'key')]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a key that appears twice, at the same line and column as the YAML parser', () => {
    const text = '{\n  "rules": [\n    { "id": "a", "effect": "permit", "effect": "deny" }\n  ]\n}\n';
    const { fast, yaml } = both(text);
    expect(fast.ok).toBe(false);
    if (fast.ok || yaml.ok) return;
    expect(fast.diagnostics).toEqual(yaml.diagnostics.map((d) => ({ ...d, file: '/r/rules.json' })));
    expect(fast.diagnostics[0]).toMatchObject({ line: 3, column: 38, message: 'Map keys must be unique: `effect` appears twice' });
  });

  it('finds the repeat also beside a key that ends in an escaped backslash', () => {
    const text = String.raw`{"rules": [{"id": "a", "citation\\": "x", "effect": "permit", "effect": "deny"}]}`;
    expect(Object.keys(JSON.parse(text).rules[0])).toContain('citation\\');
    const fast = parseText('/r/rules.json', text, 'rules.json');
    expect(fast.ok).toBe(false);
    if (!fast.ok) expect(fast.diagnostics[0]?.message).toBe('Map keys must be unique: `effect` appears twice');
  });

  it('counts keys in time that grows with the text, also over a long run of backslashes', () => {
    // 400,000 backslashes: a pattern that looked back from every position took minutes here
    const text = `{"rules": [{"id": "a", "citation": "${'\\\\'.repeat(200_000)}", "effect": "permit"}]}`;
    const fast = parseText('/r/rules.json', text, 'rules.json');
    expect(fast.ok).toBe(true);
  });

  it('leaves text that is not JSON to the YAML parser: its errors, with line and column', () => {
    const bad = parseText('/r/rules.json', '{\n  "rules": [\n    { "id": "a", }\n', 'rules.json');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.diagnostics[0]).toMatchObject({ code: 'syntax', file: '/r/rules.json', line: expect.any(Number) });
  });
});
