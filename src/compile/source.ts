// The shapes that the file schema guarantees, each item kept with where it was written.
import type { Diagnostic, Id, LocalizedText, Name, Obligation, ParsedDocument, Sensitivity, Severity } from '../domain/types.js';
import { pointer } from '../schema/index.js';

export interface RawCovenant {
  id: Id;
  title?: string;
  validFrom?: string;
  validUntil?: string;
}
export interface RawPartner {
  id: Id;
  name?: Name;
}
export interface RawCategory {
  id: Id;
  name?: Name;
  sensitivity?: Sensitivity;
}
export interface RawPurpose {
  id: Id;
  name?: Name;
}
export interface RawApproval {
  id: Id;
  name?: Name;
  citation?: string;
}
export interface RawLegalBasis {
  id: Id;
  citation?: string;
  requires?: Id[];
  providers: Id[];
  categories: Id[];
  purposes?: Id[];
  validFrom?: string;
  validUntil?: string;
}
export interface RawRule {
  id: Id;
  citation?: string;
  effect: 'permit' | 'deny';
  providers?: Id[];
  recipients?: Id[];
  categories?: Id[];
  purposes?: Id[];
  legalBases?: Id[];
  requires?: Id[];
  when?: unknown;
  obligations?: Obligation[];
  validFrom?: string;
  validUntil?: string;
  explanation?: string | LocalizedText;
}
export interface RawFile {
  covenant?: RawCovenant;
  partners?: RawPartner[] | null;
  dataCategories?: RawCategory[] | null;
  purposes?: RawPurpose[] | null;
  approvals?: RawApproval[] | null;
  legalBases?: RawLegalBasis[] | null;
  rules?: RawRule[] | null;
}

export type Path = readonly (string | number)[];

/** A value from a file, with the document and path it came from. */
export interface Located<T> {
  readonly value: T;
  readonly doc: ParsedDocument;
  readonly path: Path;
}

/** Builds a diagnostic located at a path inside a document. */
export function diagnostic(
  severity: Severity,
  code: string,
  message: string,
  at?: { doc: ParsedDocument; path: Path; key?: boolean },
): Diagnostic {
  if (!at) return { severity, code, message };
  const pos = at.doc.locate(at.path, at.key ? 'key' : 'value');
  return {
    severity,
    code,
    message,
    file: at.doc.file,
    ...(pos && { line: pos.line, column: pos.column }),
    path: pointer(at.path),
  };
}

/** `file:line:col` of a path inside a document, for messages that point at another place. */
export function where(doc: ParsedDocument, path: Path): string {
  const pos = doc.locate(path);
  return pos ? `${doc.file}:${pos.line}:${pos.column}` : doc.file;
}

/** Ancestors of a dotted id, nearest first: `a.b.c` gives `a.b`, `a`. */
export function ancestors(id: Id): Id[] {
  const out: Id[] = [];
  let i = id.lastIndexOf('.');
  while (i > 0) {
    out.push(id.slice(0, i));
    i = id.lastIndexOf('.', i - 1);
  }
  return out;
}

/** True when `id` equals one of `listed` or descends from one: a parent covers its descendants. */
export function covers(listed: readonly Id[], id: Id): boolean {
  for (const l of listed) {
    if (id === l || (id.length > l.length && id.startsWith(l) && id.charCodeAt(l.length) === 46)) return true;
  }
  return false;
}
