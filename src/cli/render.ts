// One renderer for diagnostics on the terminal: `file:line:col: error: message [code]`.
import type { Diagnostic } from '../domain/types.js';

export function renderDiagnostic(d: Diagnostic): string {
  const place = d.file === undefined ? '' : `${d.file}${d.line !== undefined ? `:${d.line}:${d.column ?? 1}` : ''}: `;
  const path = d.path ? ` (at ${d.path})` : '';
  return `${place}${d.severity}: ${d.message} [${d.code}]${path}`;
}

export function renderDiagnostics(list: readonly Diagnostic[]): string {
  return list.map((d) => renderDiagnostic(d) + '\n').join('');
}

export const count = (n: number, noun: string, plural = `${noun}s`): string => `${n} ${n === 1 ? noun : plural}`;
