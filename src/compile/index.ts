// Parsed documents in, a compiled covenant or diagnostics out. Named stages, each collecting
// diagnostics, so that one run reports every problem in the files, sorted by file and line.
import type { Covenant } from '../domain/covenant.js';
import type { Diagnostic, ParsedDocument } from '../domain/types.js';
import { collect } from './collect.js';
import { resolve } from './resolve.js';
import { analyse } from './warnings.js';
import { assemble } from './portable.js';
import { policyVersionOf } from './version.js';

export interface CompileOptions {
  /** when given, items that expired before it are warned about */
  readonly now?: number;
}

export interface Compiled {
  /** present when there is no error */
  readonly covenant?: Covenant;
  readonly diagnostics: readonly Diagnostic[];
}

export function compileCovenant(documents: readonly ParsedDocument[], options: CompileOptions = {}): Compiled {
  const diagnostics: Diagnostic[] = [];
  const collected = collect(documents, diagnostics);
  const resolved = resolve(collected, diagnostics);
  if (!resolved) return { diagnostics: sortDiagnostics(diagnostics) };
  analyse(collected, resolved, options.now, diagnostics);
  const { rules, ...rest } = resolved;
  const covenant: Covenant = assemble({ ...rest, policyVersion: policyVersionOf(documents), files: documents.map((d) => d.name) }, rules);
  return { covenant, diagnostics: sortDiagnostics(diagnostics) };
}

export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort(
    (a, b) =>
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      a.code.localeCompare(b.code),
  );
}

export const hasErrors = (list: readonly Diagnostic[]): boolean => list.some((d) => d.severity === 'error');
