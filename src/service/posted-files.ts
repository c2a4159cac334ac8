// What the review routes work out from posted rule files: plain data, so that it can be worked
// out on another thread and sent back.
import type { Diagnostic } from '../domain/types.js';
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
