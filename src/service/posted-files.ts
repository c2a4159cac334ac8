// What the review routes work out from posted rule files: plain data, so that it can be worked
// out on another thread and sent back.
import type { Diagnostic, ParsedDocument } from '../domain/types.js';
import { parseText } from '../loader/parse.js';
import { runTests } from '../tester/index.js';
import type { DecisionLog } from '../audit/types.js';
import { covenantFromFiles, impact, type Impact } from './review.js';

export interface PostedFile {
  readonly name: string;
  readonly content: string;
}

/** POST /v1/policy/validate's answer. */
export interface ValidationReport {
  readonly valid: boolean;
  readonly policyVersion?: string;
  readonly errors: number;
  readonly warnings: number;
  readonly diagnostics: readonly Diagnostic[];
}

/** POST /v1/policy/impact's answer, or the errors that kept the files from compiling. */
export type ImpactReport = { readonly impact: Impact } | { readonly invalid: readonly Diagnostic[] };

export type Period = { readonly from?: number; readonly to?: number };

const compile = (files: readonly PostedFile[], now?: number) => covenantFromFiles(files.map((f) => ({ name: f.name, text: f.content })), now === undefined ? {} : { now });

export function validateFiles(files: readonly PostedFile[], now: number): ValidationReport {
  const compiled = compile(files, now);
  return {
    valid: compiled.covenant !== undefined,
    ...(compiled.covenant && { policyVersion: compiled.covenant.policyVersion }),
    errors: compiled.diagnostics.filter((d) => d.severity === 'error').length,
    warnings: compiled.diagnostics.filter((d) => d.severity === 'warning').length,
    diagnostics: compiled.diagnostics,
  };
}

export async function impactOfFiles(log: DecisionLog, files: readonly PostedFile[], period: Period): Promise<ImpactReport> {
  const proposed = compile(files);
  if (!proposed.covenant) return { invalid: proposed.diagnostics.filter((d) => d.severity === 'error') };
  return { impact: await impact(log, proposed.covenant, period) };
}

/** A draft of the rule files, checked before it goes live: as validate finds it, its policy tests, and what it would flip. */
export interface DraftReport {
  readonly validation: ValidationReport;
  /** the policy tests run against the draft, when it compiles */
  readonly tests?: {
    readonly passed: number;
    readonly failed: number;
    readonly diagnostics: readonly Diagnostic[];
    /** each test, with the rules that applied in its decision (what it covers) */
    readonly results: readonly { readonly name: string; readonly file: string; readonly line?: number; readonly expect: string; readonly got: string; readonly passed: boolean; readonly rules: readonly string[] }[];
  };
  /** every logged decision under the draft, when it compiles */
  readonly impact?: Impact;
}

/** `withImpact` false: the tests alone, for the serving version (no log to read through). */
export async function draftCheck(log: DecisionLog, files: readonly PostedFile[], tests: readonly PostedFile[], now: number, withImpact = true): Promise<DraftReport> {
  const validation = validateFiles(files, now);
  const compiled = compile(files, now);
  if (!compiled.covenant) return { validation };
  const documents: ParsedDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const t of tests) {
    const parsed = parseText(t.name, t.content);
    if (parsed.ok) documents.push(parsed.document);
    else diagnostics.push(...parsed.diagnostics);
  }
  const run = runTests(compiled.covenant, documents, now);
  const results = run.results.map((r) => ({
    name: r.name,
    file: r.file,
    ...(r.line !== undefined && { line: r.line }),
    expect: r.expect,
    got: r.decision.decision,
    passed: r.passed,
    rules: [...new Set(r.decision.categories.flatMap((c) => (c.decision === 'deny' && c.reason === 'approval-required' ? [] : c.rules)))],
  }));
  return {
    validation,
    tests: { passed: results.filter((r) => r.passed).length, failed: results.filter((r) => !r.passed).length, diagnostics: [...diagnostics, ...run.diagnostics], results },
    ...(withImpact && { impact: await impact(log, compiled.covenant, {}) }),
  };
}
