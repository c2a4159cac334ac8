// POST /v1/policy/validate's answer for posted files: plain data, so that it can be worked out
// on another thread and sent back.
import type { Diagnostic } from '../domain/types.js';
import { covenantFromFiles } from './review.js';

export interface PostedFile {
  readonly name: string;
  readonly content: string;
}

export interface ValidationReport {
  readonly valid: boolean;
  readonly policyVersion?: string;
  readonly errors: number;
  readonly warnings: number;
  readonly diagnostics: readonly Diagnostic[];
}

export function validateFiles(files: readonly PostedFile[], now: number): ValidationReport {
  const compiled = covenantFromFiles(files.map((f) => ({ name: f.name, text: f.content })), { now });
  return {
    valid: compiled.covenant !== undefined,
    ...(compiled.covenant && { policyVersion: compiled.covenant.policyVersion }),
    errors: compiled.diagnostics.filter((d) => d.severity === 'error').length,
    warnings: compiled.diagnostics.filter((d) => d.severity === 'warning').length,
    diagnostics: compiled.diagnostics,
  };
}
