// Stage 1: schema-check each file, then merge the sections of all files (CONTRACT 1.1), reporting
// an id defined twice and a covenant defined other than exactly once.
import type { Diagnostic, ParsedDocument } from '../domain/types.js';
import { validateCovenantFile } from '../schema/index.js';
import {
  diagnostic,
  where,
  type Located,
  type RawCategory,
  type RawCovenant,
  type RawFile,
  type RawLegalBasis,
  type RawPartner,
  type RawPurpose,
  type RawRule,
} from './source.js';

export interface Collected {
  covenant?: Located<RawCovenant>;
  partners: Located<RawPartner>[];
  categories: Located<RawCategory>[];
  purposes: Located<RawPurpose>[];
  legalBases: Located<RawLegalBasis>[];
  rules: Located<RawRule>[];
}

const SECTIONS = [
  ['partners', 'partners', 'partner'],
  ['dataCategories', 'categories', 'data category'],
  ['purposes', 'purposes', 'purpose'],
  ['legalBases', 'legalBases', 'legal basis'],
  ['rules', 'rules', 'rule'],
] as const;

export function collect(documents: readonly ParsedDocument[], out: Diagnostic[]): Collected {
  const collected: Collected = { partners: [], categories: [], purposes: [], legalBases: [], rules: [] };
  const covenants: Located<RawCovenant>[] = [];
  for (const doc of documents) {
    const errors = validateCovenantFile(doc.value);
    for (const e of errors) {
      out.push(diagnostic('error', 'schema', e.message, { doc, path: e.segments, key: e.at === 'key' }));
    }
    if (errors.length > 0) continue;
    const file = doc.value as RawFile;
    if (file.covenant) covenants.push({ value: file.covenant, doc, path: ['covenant'] });
    for (const [section, into] of SECTIONS) {
      const items = (file[section] ?? []) as { id: string }[];
      items.forEach((value, i) => (collected[into] as Located<unknown>[]).push({ value, doc, path: [section, i] }));
    }
  }
  if (covenants.length === 0 && !out.some((d) => d.severity === 'error')) {
    out.push(diagnostic('error', 'missing-covenant', 'no file defines the `covenant` section; exactly one must'));
  }
  for (const extra of covenants.slice(1)) {
    out.push(
      diagnostic('error', 'duplicate-covenant', `the \`covenant\` section is defined more than once (first in ${covenants[0]?.doc.file})`, {
        doc: extra.doc,
        path: extra.path,
        key: true,
      }),
    );
  }
  if (covenants[0]) collected.covenant = covenants[0];
  for (const [, into, noun] of SECTIONS) {
    collected[into] = unique(collected[into] as Located<{ id: string }>[], noun, out) as never;
  }
  return collected;
}

/** Keeps the first definition of each id and reports every later one. */
function unique<T extends { id: string }>(items: Located<T>[], noun: string, out: Diagnostic[]): Located<T>[] {
  const first = new Map<string, Located<T>>();
  for (const item of items) {
    const earlier = first.get(item.value.id);
    if (!earlier) {
      first.set(item.value.id, item);
      continue;
    }
    const there = where(diagnostic('error', '', '', { doc: earlier.doc, path: [...earlier.path, 'id'] }));
    out.push(
      diagnostic('error', 'duplicate-id', `${noun} \`${item.value.id}\` is defined twice (first at ${there})`, {
        doc: item.doc,
        path: [...item.path, 'id'],
      }),
    );
  }
  return [...first.values()];
}
