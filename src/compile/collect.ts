// Stage 1: schema-check each file, then merge the sections of all files (CONTRACT 1.1), reporting
// an id defined twice and a covenant defined other than exactly once.
import type { Diagnostic, ParsedDocument } from '../domain/types.js';
import { validateCovenantFile } from '../schema/index.js';
import {
  diagnostic,
  where,
  type Located,
  type RawApproval,
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
  approvals: Located<RawApproval>[];
  legalBases: Located<RawLegalBasis>[];
  rules: Located<RawRule>[];
  /** ids of items left out for schema errors: known, so that they cause no second error */
  broken: Set<string>;
}

const SECTIONS = [
  ['partners', 'partners', 'partner'],
  ['dataCategories', 'categories', 'data category'],
  ['purposes', 'purposes', 'purpose'],
  ['approvals', 'approvals', 'approval kind'],
  ['legalBases', 'legalBases', 'legal basis'],
  ['rules', 'rules', 'rule'],
] as const;

export function collect(documents: readonly ParsedDocument[], out: Diagnostic[]): Collected {
  const collected: Collected = { partners: [], categories: [], purposes: [], approvals: [], legalBases: [], rules: [], broken: new Set() };
  const covenants: Located<RawCovenant>[] = [];
  let brokenCovenant = false;
  for (const doc of documents) {
    const errors = validateCovenantFile(doc.value);
    for (const e of errors) {
      out.push(diagnostic('error', 'schema', e.message, { doc, path: e.segments, key: e.at === 'key' }));
    }
    // Keep checking what is valid, so one run reports every problem; an item with a schema error
    // is left out of later stages, but its id stays known so it causes no second error.
    const bad = (...prefix: (string | number)[]): boolean =>
      errors.some((e) => prefix.every((p, i) => e.segments.length > i && e.segments[i] === p));
    if (!isRecord(doc.value)) continue;
    const file = doc.value as RawFile & Record<string, unknown>;
    if (file.covenant !== undefined) {
      if (bad('covenant')) brokenCovenant = true;
      else covenants.push({ value: file.covenant, doc, path: ['covenant'] });
    }
    for (const [section, into] of SECTIONS) {
      const items = file[section];
      if (!Array.isArray(items) || (bad(section) && errors.some((e) => e.segments.length === 1))) continue;
      items.forEach((value: unknown, i) => {
        if (!bad(section, i)) (collected[into] as Located<unknown>[]).push({ value, doc, path: [section, i] });
        else if (isRecord(value) && typeof value.id === 'string') collected.broken.add(value.id);
      });
    }
  }
  if (covenants.length === 0 && !brokenCovenant) {
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

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keeps the first definition of each id and reports every later one. */
function unique<T extends { id: string }>(items: Located<T>[], noun: string, out: Diagnostic[]): Located<T>[] {
  const first = new Map<string, Located<T>>();
  for (const item of items) {
    const earlier = first.get(item.value.id);
    if (!earlier) {
      first.set(item.value.id, item);
      continue;
    }
    const there = where(earlier.doc, [...earlier.path, 'id']);
    out.push(
      diagnostic('error', 'duplicate-id', `${noun} \`${item.value.id}\` is defined twice (first at ${there})`, {
        doc: item.doc,
        path: [...item.path, 'id'],
      }),
    );
  }
  return [...first.values()];
}
