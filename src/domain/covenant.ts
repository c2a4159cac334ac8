// The compiled covenant: what the engine decides against. Built once per loaded version, then
// read-only; lists are in definition order (file path, then position) so decisions are stable.
import type { Effect, Id, LocalizedText, Name, Obligation, Sensitivity, Validity } from './types.js';
import type { CompiledCondition } from '../conditions/types.js';

export interface CovenantInfo {
  readonly id: Id;
  readonly title: string;
  readonly validity: Validity;
}

export interface Partner {
  readonly id: Id;
  readonly name: Name;
}

export interface DataCategory {
  readonly id: Id;
  readonly name: Name;
  readonly sensitivity: Sensitivity;
}

export interface Purpose {
  readonly id: Id;
  readonly name: Name;
}

/** A kind of prior approval that rules and legal bases may require, e.g. the officier van justitie's consent. */
export interface ApprovalKind {
  readonly id: Id;
  readonly name: Name;
  readonly citation?: string;
}

export interface LegalBasis {
  readonly id: Id;
  readonly citation: string;
  /** approval kinds each needed, for the request's case, before the basis can be relied on */
  readonly requires?: readonly Id[];
  readonly providers: ReadonlySet<Id>;
  readonly categories: readonly Id[];
  /** `undefined`: covers any purpose */
  readonly purposes?: readonly Id[];
  readonly validity: Validity;
}

export interface Rule {
  readonly id: Id;
  /** position in definition order; rules are reported in this order */
  readonly order: number;
  readonly citation: string;
  readonly effect: Effect;
  /** each list `undefined` means "any" */
  readonly providers?: ReadonlySet<Id>;
  readonly recipients?: ReadonlySet<Id>;
  readonly categories?: readonly Id[];
  readonly purposes?: readonly Id[];
  readonly legalBases?: ReadonlySet<Id>;
  /** approval kinds each needed, for the request's case, before this (permit) rule applies */
  readonly requires?: readonly Id[];
  readonly when?: CompiledCondition;
  readonly obligations: readonly Obligation[];
  readonly validity: Validity;
  readonly explanation?: LocalizedText;
  /** where the rule is written, for reports */
  readonly source: { readonly file: string; readonly line?: number };
}

export interface ScoredRule {
  readonly rule: Rule;
  /** how many of provider, recipient, legal basis and purpose it does not match */
  readonly misses: number;
}

/** Looks up the rules that can apply to one category of a request, ignoring time and `when`. */
export interface RuleIndex {
  candidates(provider: Id, recipient: Id, legalBasis: Id, purpose: Id, category: Id): readonly Rule[];
  /** every rule whose `categories` cover `category` (or that names none), any other field */
  byCategory(category: Id): readonly Rule[];
  /** permit rules for the category that miss at most two of those four fields, closest first */
  nearCandidates(provider: Id, recipient: Id, legalBasis: Id, purpose: Id, category: Id): readonly ScoredRule[];
}

export interface Covenant {
  readonly info: CovenantInfo;
  readonly partners: ReadonlyMap<Id, Partner>;
  readonly categories: ReadonlyMap<Id, DataCategory>;
  readonly purposes: ReadonlyMap<Id, Purpose>;
  readonly approvals: ReadonlyMap<Id, ApprovalKind>;
  readonly legalBases: ReadonlyMap<Id, LegalBasis>;
  readonly rules: readonly Rule[];
  readonly rulesById: ReadonlyMap<Id, Rule>;
  readonly index: RuleIndex;
  readonly policyVersion: string;
  readonly files: readonly string[];
}
