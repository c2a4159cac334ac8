// What changed between two policy versions, article by article: added, removed, and changed with
// the fields that differ. For the console's policy history; pure.
import type { Covenant, LegalBasis, Rule } from '../domain/covenant.js';
import type { Id } from '../domain/types.js';

export interface Changes {
  readonly added: readonly Id[];
  readonly removed: readonly Id[];
  readonly changed: readonly { readonly id: Id; readonly fields: readonly string[] }[];
}

export interface PolicyDiff {
  readonly rules: Changes;
  readonly legalBases: Changes;
}

/** The fields that give a rule its meaning, comparable as JSON: not its position or file. */
function ruleFields(r: Rule): Record<string, unknown> {
  return {
    citation: r.citation,
    effect: r.effect,
    providers: r.providers && [...r.providers],
    recipients: r.recipients && [...r.recipients],
    categories: r.categories,
    purposes: r.purposes,
    legalBases: r.legalBases && [...r.legalBases],
    requires: r.requires,
    when: r.when?.source,
    obligations: r.obligations,
    validity: r.validity,
    explanation: r.explanation,
  };
}

function basisFields(lb: LegalBasis): Record<string, unknown> {
  return { citation: lb.citation, providers: [...lb.providers], categories: lb.categories, purposes: lb.purposes, requires: lb.requires, validity: lb.validity };
}

function changes<T>(before: ReadonlyMap<Id, T>, after: ReadonlyMap<Id, T>, fields: (x: T) => Record<string, unknown>): Changes {
  const changed: { id: Id; fields: string[] }[] = [];
  for (const [id, b] of after) {
    const a = before.get(id);
    if (a === undefined) continue;
    const [fa, fb] = [fields(a), fields(b)];
    const differ = Object.keys(fb).filter((k) => JSON.stringify(fa[k]) !== JSON.stringify(fb[k]));
    if (differ.length > 0) changed.push({ id, fields: differ });
  }
  return { added: [...after.keys()].filter((id) => !before.has(id)), removed: [...before.keys()].filter((id) => !after.has(id)), changed };
}

export function diffCovenants(before: Covenant, after: Covenant): PolicyDiff {
  return { rules: changes(before.rulesById, after.rulesById, ruleFields), legalBases: changes(before.legalBases, after.legalBases, basisFields) };
}
