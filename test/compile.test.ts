// Load-time validation (CONTRACT 1.3): every error names its file, line, column and path.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compileCovenant } from '../src/compile/index.js';
import { parseText } from '../src/loader/parse.js';
import type { Diagnostic } from '../src/domain/types.js';
import { basePolicies, doc } from './helpers.js';

const POLICIES_YAML = stringify(basePolicies);

function diagnose(rulesYaml: string, policiesYaml = POLICIES_YAML): Diagnostic[] {
  const docs = [
    ['policies/p.yaml', policiesYaml],
    ['rules/r.yaml', rulesYaml],
  ].map(([name, text]) => {
    const parsed = parseText(name as string, text as string);
    if (!parsed.ok) return parsed.diagnostics;
    return parsed.document;
  });
  const syntax = docs.filter(Array.isArray).flat() as Diagnostic[];
  if (syntax.length > 0) return syntax;
  return [...compileCovenant(docs as never).diagnostics];
}

const errors = (list: Diagnostic[]) => list.filter((d) => d.severity === 'error');

describe('load-time errors', () => {
  it('reports a YAML syntax error with line and column', () => {
    const [d] = diagnose('rules:\n  - id: x\n   bad: [');
    expect(d).toMatchObject({ severity: 'error', code: 'syntax', file: 'rules/r.yaml', line: expect.any(Number) });
  });

  it('refuses nesting too deep to parse safely, once, with its line, and stays able to parse', () => {
    // The YAML parser recurses: past some hundreds of levels it overflows the stack, and after an
    // overflow there, V8 once ran out of memory compiling a regular expression on the next parse.
    const deep = {
      flow: `rules: ${'['.repeat(3000)}${']'.repeat(3000)}\n`,
      unclosed: `rules:\n  - ${'{a: '.repeat(5000)}`,
      json: `{"rules": ${'['.repeat(3000)}${']'.repeat(3000)}}`,
      block: Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n',
    };
    for (let round = 0; round < 2; round++) {
      for (const [kind, text] of Object.entries(deep)) {
        const parsed = parseText('rules/r.yaml', text);
        expect(parsed.ok, kind).toBe(false);
        if (parsed.ok) continue;
        expect(parsed.diagnostics, kind).toEqual([
          expect.objectContaining({ severity: 'error', code: 'syntax', file: 'rules/r.yaml', line: { block: 258, unclosed: 2 }[kind] ?? 1, message: expect.stringMatching(/nested too deeply/) }),
        ]);
      }
    }
    // what a covenant needs is far from the limit: 60 levels of flow and of blocks still parse
    expect(parseText('x.yaml', `a: ${'['.repeat(60)}${']'.repeat(60)}\n`).ok).toBe(true);
    expect(parseText('x.yaml', Array.from({ length: 60 }, (_, i) => `${'  '.repeat(i)}a:`).join('\n') + ' 1\n').ok).toBe(true);
    expect(errors(diagnose('rules:\n  - id: r1\n    citation: "[[[[ {{{{ not nesting"\n    effect: permit\n'))).not.toContainEqual(expect.objectContaining({ message: expect.stringMatching(/nested/) }));
  });

  it('reports a duplicate key instead of keeping the last one', () => {
    const [d] = diagnose('rules:\n  - id: x\n    id: y\n    citation: c\n    effect: permit\n');
    expect(d).toMatchObject({ code: 'syntax', line: 3 });
  });

  it('points a schema error at the offending key', () => {
    const list = errors(diagnose('rules:\n  - id: r1\n    citation: c\n    effect: permit\n    provider: [a]\n'));
    expect(list).toEqual([
      expect.objectContaining({ code: 'schema', file: 'rules/r.yaml', line: 5, column: 5, path: '/rules/0/provider', message: 'unknown field `provider`' }),
    ]);
  });

  it('names the allowed values of an enum and a missing field', () => {
    const list = errors(diagnose('rules:\n  - id: r1\n    effect: allow\n  - id: r2\n    citation: c\n'));
    expect(list.map((d) => d.message).sort()).toEqual(['missing required field `effect`', 'must be one of `permit`, `deny`']);
    expect(list.find((d) => d.message.startsWith('must be one of'))).toMatchObject({ line: 3, column: 13, path: '/rules/0/effect' });
  });

  it('reports an unknown reference with a suggestion, at the list item', () => {
    const list = errors(diagnose('rules:\n  - id: r1\n    citation: c\n    effect: permit\n    categories: [fiscal, fiscal.incme]\n'));
    expect(list).toEqual([
      expect.objectContaining({
        code: 'unknown-reference',
        line: 5,
        column: 26,
        path: '/rules/0/categories/1',
        message: 'unknown data category `fiscal.incme`; did you mean `fiscal.income`?',
      }),
    ]);
  });

  it('reports an id defined twice across files, pointing at the first', () => {
    const list = errors(diagnose('partners:\n  - id: a\n'));
    expect(list).toEqual([expect.objectContaining({ code: 'duplicate-id', file: 'rules/r.yaml', line: 2 })]);
    expect(list[0]?.message).toMatch(/partner `a` is defined twice \(first at policies\/p\.yaml:\d+:\d+\)/);
  });

  it('requires exactly one covenant', () => {
    expect(errors(diagnose('covenant: { id: again }\n')).map((d) => d.code)).toEqual(['duplicate-covenant']);
    const noCovenant = stringify({ ...basePolicies, covenant: undefined });
    expect(errors(diagnose('rules: []\n', noCovenant)).map((d) => d.code)).toEqual(['missing-covenant']);
  });

  it('requires parents of hierarchical ids', () => {
    const p = stringify({ ...basePolicies, purposes: [{ id: 'nsoc.tbml' }] });
    expect(errors(diagnose('rules: []\n', p))).toEqual([
      expect.objectContaining({ code: 'missing-parent', message: 'purpose `nsoc.tbml` needs its parent `nsoc` to be defined' }),
    ]);
  });

  it('requires real dates in order, quoted or not', () => {
    const list = errors(
      diagnose(
        'rules:\n  - { id: r1, citation: c, effect: permit, validFrom: 2025-02-30 }\n  - { id: r2, citation: c, effect: permit, validFrom: "2025-06-01", validUntil: 2025-05-31 }\n  - { id: r3, citation: c, effect: permit, validFrom: tomorrow }\n',
      ),
    );
    expect(list.map((d) => [d.code, d.line])).toEqual([
      ['invalid-date', 2],
      ['invalid-validity', 3],
      ['schema', 4],
    ]);
  });

  it('rejects a `when` naming an unknown fact or operator, at load time', () => {
    const list = errors(
      diagnose(
        'rules:\n  - id: r1\n    citation: c\n    effect: permit\n    when:\n      all:\n        - { fact: subjects, operator: equal, value: 1 }\n        - { fact: subjectCount, operator: atMost, value: 1 }\n',
      ),
    );
    expect(list.map((d) => [d.code, d.line, d.path])).toEqual([
      ['unknown-fact', 7, '/rules/0/when/all/0/fact'],
      ['unknown-operator', 8, '/rules/0/when/all/1/operator'],
    ]);
  });

  it('rejects a `when` that does not start with all, any or not', () => {
    const list = errors(diagnose('rules:\n  - { id: r1, citation: c, effect: permit, when: { fact: subjectCount, operator: equal, value: 1 } }\n'));
    expect(list.map((d) => d.code)).toEqual(['invalid-condition']);
  });

  it('reports every problem of every file in one run, sorted by file and line', () => {
    const list = errors(diagnose('rules:\n  - { id: r1, citation: c, effect: permit, providers: [x] }\n  - { id: r1, citation: c, effect: permit }\n'));
    expect(list.map((d) => [d.code, d.line])).toEqual([
      ['unknown-reference', 2],
      ['duplicate-id', 3],
    ]);
    const more = errors(diagnose('rules:\n  - { id: r1, citation: c, effect: permit, providers: [x] }\n  - { id: r2, citation: c, effect: permit, recipients: [y] }\n'));
    expect(more.map((d) => d.line)).toEqual([2, 3]);
  });
});

describe('warnings', () => {
  const warnings = (rulesYaml: string, policies = POLICIES_YAML) =>
    diagnose(rulesYaml, policies).filter((d) => d.severity === 'warning').map((d) => d.code);

  it('warns of a rule whose providers can invoke none of its legal bases', () => {
    expect(warnings('rules:\n  - { id: r1, citation: c, effect: permit, providers: [c] }\n')).toContain('rule-never-applies');
  });

  it('warns of a rule valid only outside the covenant', () => {
    expect(warnings('rules:\n  - { id: r1, citation: c, effect: permit, validUntil: 2024-06-30 }\n')).toContain('rule-never-applies');
  });

  it('warns of a category no allowed legal basis covers', () => {
    const p = stringify({ ...basePolicies, legalBases: [{ id: 'lb', citation: 'X', providers: ['a'], categories: ['police'] }] });
    expect(warnings('rules:\n  - { id: r1, citation: c, effect: permit, categories: [fiscal, police] }\n', p)).toEqual(['category-never-applies']);
  });

  it('warns of a permit shadowed by an unconditional deny', () => {
    expect(
      warnings('rules:\n  - { id: p, citation: c, effect: permit, categories: [fiscal.income] }\n  - { id: d, citation: c, effect: deny, categories: [fiscal] }\n'),
    ).toEqual(['permit-shadowed']);
    expect(
      warnings(
        'rules:\n  - { id: p, citation: c, effect: permit, categories: [fiscal.income] }\n  - { id: d, citation: c, effect: deny, categories: [fiscal], when: { all: [{ fact: pseudonymised, operator: equal, value: false }] } }\n',
      ),
    ).toEqual([]);
  });

  it('warns of a legal basis no permit rule can use', () => {
    expect(warnings('rules:\n  - { id: p, citation: c, effect: permit, providers: [c] }\n')).toContain('unused-legal-basis');
  });

  it('warns of a rule or legal basis without a citation, and cites its id instead', () => {
    expect(warnings('rules:\n  - { id: r1, effect: permit }\npartners:\n')).toEqual(['missing-citation']);
  });

  it('warns of expired items when given the time', () => {
    const docs = [doc('policies/p.json', basePolicies), doc('rules/r.json', { rules: [{ id: 'p', citation: 'c', effect: 'permit', validUntil: '2025-06-30' }] })];
    const codes = compileCovenant(docs, { now: Date.parse('2025-08-01T00:00:00Z') }).diagnostics.map((d) => d.code);
    expect(codes).toEqual(['expired']);
  });
});

describe('policyVersion', () => {
  it('changes with any byte of any file and not otherwise', () => {
    const a = compileCovenant([doc('policies/p.json', basePolicies), doc('rules/r.json', { rules: [] })]).covenant?.policyVersion;
    const b = compileCovenant([doc('policies/p.json', basePolicies), doc('rules/r.json', { rules: [] })]).covenant?.policyVersion;
    const c = compileCovenant([doc('policies/p.json', basePolicies), doc('rules/r.json', '{"rules": [ ]}')]).covenant?.policyVersion;
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});

describe('approvals in rule files', () => {
  it('refuses an approval kind nobody declared and `requires` on a deny rule, at file:line:col, with a suggestion', () => {
    const policies = doc('policies/p.yaml', stringify({ ...basePolicies, approvals: [{ id: 'ovj', name: 'OvJ' }] }));
    const rules = doc(
      'rules/r.yaml',
      ['rules:', '  - id: p1', '    effect: permit', '    requires: [ovk]', '  - id: d1', '    effect: deny', '    requires: [ovj]', ''].join('\n'),
    );
    const { covenant, diagnostics } = compileCovenant([policies, rules]);
    expect(covenant).toBeUndefined();
    expect(diagnostics).toContainEqual(expect.objectContaining({ severity: 'error', code: 'unknown-reference', file: 'rules/r.yaml', line: 4, column: 16, message: 'unknown approval kind `ovk`; did you mean `ovj`?' }));
    expect(diagnostics).toContainEqual(expect.objectContaining({ severity: 'error', code: 'requires-on-deny', file: 'rules/r.yaml', line: 7, message: 'rule `d1` is a deny: only a permit rule can require an approval' }));
  });

  it('refuses an approval kind declared twice, and an empty `requires`', () => {
    const policies = doc('policies/p.yaml', stringify({ ...basePolicies, approvals: [{ id: 'ovj' }, { id: 'ovj' }] }));
    const rules = doc('rules/r.yaml', stringify({ rules: [{ id: 'p1', effect: 'permit', requires: [] }] }));
    const { diagnostics } = compileCovenant([policies, rules]);
    expect(diagnostics).toContainEqual(expect.objectContaining({ code: 'duplicate-id', message: expect.stringMatching(/^approval kind `ovj` is defined twice/) }));
    expect(diagnostics).toContainEqual(expect.objectContaining({ code: 'schema', path: '/rules/0/requires' }));
  });
});
