// `covenant test` as a library (after OPA's tester): discover nothing, read nothing; take parsed
// test documents and a covenant, return results. Reporting lives in the CLI.
import type { Covenant } from '../domain/covenant.js';
import type { AskedBy, Decision, Origin, Diagnostic, Effect, Id, ParsedDocument } from '../domain/types.js';
import { validateTestFile } from '../schema/index.js';
import { checkRequest, evaluate } from '../engine/index.js';
import { diagnostic } from '../compile/source.js';

export interface TestCase {
  readonly file: string;
  readonly line?: number;
  readonly name: string;
  readonly expect: Effect;
  readonly rules: readonly Id[];
}

export interface TestResult extends TestCase {
  readonly passed: boolean;
  readonly decision: Decision;
  /** expected rules that the decision's categories[].rules do not contain */
  readonly missingRules: readonly Id[];
}

export interface TestRun {
  /** problems with the test files themselves: any of them makes the run invalid */
  readonly diagnostics: readonly Diagnostic[];
  readonly results: readonly TestResult[];
  /** rules that applied in no test's decision */
  readonly unexercised: readonly Id[];
}

interface RawTest {
  name: string;
  request: unknown;
  expect: Effect;
  /** the unit and function of the key that asks, for rules that condition on them */
  caller?: AskedBy;
  /** where the data came from, as the service would find it for a request with `derivedFrom` */
  origin?: Origin;
  /** the approval kinds in force for the request's case, as the service's register would give them */
  approvals?: Id[];
  rules?: Id[];
}

export function runTests(covenant: Covenant, documents: readonly ParsedDocument[], now: number): TestRun {
  const diagnostics: Diagnostic[] = [];
  const pending: { test: TestCase; request: Parameters<typeof evaluate>[1]; askedBy: AskedBy; origin?: Origin; approvals?: ReadonlySet<Id> }[] = [];
  for (const doc of documents) {
    const errors = validateTestFile(doc.value);
    for (const e of errors) diagnostics.push(diagnostic('error', 'schema', e.message, { doc, path: e.segments, key: e.at === 'key' }));
    if (errors.length > 0) continue;
    (doc.value as { tests: RawTest[] }).tests.forEach((t, i) => {
      const checked = checkRequest(covenant, t.request);
      if (!checked.ok) {
        for (const e of checked.error.errors) {
          const segments = e.path.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
          diagnostics.push(
            diagnostic('error', 'invalid-request', `test \`${t.name}\`: ${e.message}`, { doc, path: ['tests', i, 'request', ...segments] }),
          );
        }
        return;
      }
      const unknown = (t.approvals ?? []).map((k, j) => [k, j] as const).filter(([k]) => !covenant.approvals.has(k));
      for (const [k, j] of unknown) {
        diagnostics.push(diagnostic('error', 'unknown-reference', `test \`${t.name}\`: the covenant defines no approval kind \`${k}\``, { doc, path: ['tests', i, 'approvals', j] }));
      }
      if (unknown.length > 0) return;
      const pos = doc.locate(['tests', i]);
      pending.push({
        test: { file: doc.file, ...(pos && { line: pos.line }), name: t.name, expect: t.expect, rules: t.rules ?? [] },
        request: checked.value,
        askedBy: t.caller ?? {},
        ...(t.origin && { origin: t.origin }),
        ...(t.approvals && { approvals: new Set(t.approvals) }),
      });
    });
  }
  if (diagnostics.length > 0) return { diagnostics, results: [], unexercised: [] };

  const exercised = new Set<Id>();
  const results = pending.map(({ test, request, askedBy, origin, approvals }, i): TestResult => {
    const decision = { decisionId: `test-${i + 1}`, ...evaluate(covenant, request, now, { askedBy, ...(origin && { origin }), ...(approvals && { approvals }) }) };
    // a rule waiting for an approval did not apply
    const applied = new Set(decision.categories.flatMap((c) => (c.decision === 'deny' && c.reason === 'approval-required' ? [] : c.rules)));
    applied.forEach((id) => exercised.add(id));
    const missingRules = test.rules.filter((id) => !applied.has(id));
    return { ...test, passed: decision.decision === test.expect && missingRules.length === 0, decision, missingRules };
  });
  return { diagnostics, results, unexercised: covenant.rules.map((r) => r.id).filter((id) => !exercised.has(id)) };
}
