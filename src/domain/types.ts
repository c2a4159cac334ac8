// Types only: the vocabulary shared by every layer. Wire shapes follow CONTRACT.md 2.1 and 2.3.

export type Id = string;
export type Effect = 'permit' | 'deny';
export type Sensitivity = 'normal' | 'high' | 'special' | 'criminal';
export type LocalizedText = { readonly nl: string; readonly en: string };
/** `name` in policy files may be a plain string or a text per language. */
export type Name = string | LocalizedText;

/** Milliseconds since the epoch; both bounds inclusive, `undefined` is open. */
export interface Validity {
  readonly from?: number;
  readonly until?: number;
}

export type ContextValue = string | number | boolean | null;

/** A proposed exchange (CONTRACT 2.1). It describes data; it never carries it. */
export interface DecisionRequest {
  readonly provider: Id;
  readonly recipient: Id;
  readonly dataCategories: readonly Id[];
  readonly purpose: Id;
  readonly legalBasis: Id;
  readonly subjectCount?: number;
  readonly pseudonymised?: boolean;
  readonly caseReference?: string;
  readonly requestedAt?: string;
  readonly context?: Readonly<Record<string, ContextValue>>;
  /** the decisions through which the provider received this data (onward provision) */
  readonly derivedFrom?: readonly string[];
}

/**
 * Where the data of a request with `derivedFrom` came from: the permitted decisions it names, as
 * the log recorded them. The service looks them up; the engine only reads them, as the `origin` fact.
 */
export interface Origin {
  readonly decisions: readonly string[];
  /** who provided the data to the provider of this request */
  readonly providers: readonly Id[];
  readonly categories: readonly Id[];
  readonly purposes: readonly Id[];
  readonly legalBases: readonly Id[];
}

declare const checked: unique symbol;
/** A request that checkRequest() accepted: well-formed, every id defined. Only it can be evaluated. */
export type CheckedRequest = DecisionRequest & { readonly [checked]: true };

export type Obligation =
  | { readonly type: 'retention'; readonly days: number }
  | { readonly type: 'pseudonymise' }
  | { readonly type: 'notify'; readonly role: string };

/** Request-level reason codes, in the order CONTRACT 2.2(2) lists them. */
export const REQUEST_LEVEL_CODES = [
  'covenant-not-in-force',
  'legal-basis-not-in-force',
  'legal-basis-not-available-to-provider',
  'legal-basis-does-not-cover-purpose',
  // an extension of CONTRACT 2.2(2): the basis requires a prior approval the case does not have
  'approval-required',
] as const;
export type RequestLevelCode = (typeof REQUEST_LEVEL_CODES)[number];
export type CategoryCode = 'legal-basis-does-not-cover-category' | 'no-permitting-rule';
export type RuleCode = 'permitted-by-rule' | 'denied-by-rule';
/** Who asks within a partner, from the caller's key: facts a `when` may name, never request fields. */
export interface AskedBy {
  readonly unit?: string;
  readonly function?: string;
}

export type ReasonCode = RequestLevelCode | CategoryCode | RuleCode;
export type DenialCode = Exclude<ReasonCode, 'permitted-by-rule'>;

export type Reason =
  | { readonly code: Exclude<RequestLevelCode, 'approval-required'>; readonly message: LocalizedText }
  /** the legal basis (no `rule`), or a permit rule that applied but for them, needs these approvals */
  | {
      readonly code: 'approval-required';
      readonly approvals: readonly Id[];
      readonly category?: Id;
      readonly rule?: Id;
      readonly citation?: string;
      readonly message: LocalizedText;
    }
  | { readonly code: CategoryCode; readonly category: Id; readonly message: LocalizedText }
  | {
      readonly code: RuleCode;
      readonly rule: Id;
      readonly citation: string;
      readonly category: Id;
      readonly message: LocalizedText;
      readonly explanation?: LocalizedText;
    };

/** For `approval-required`, `rules` names the permit rules that applied but for an approval. */
export type CategoryDecision =
  | { readonly category: Id; readonly decision: 'permit'; readonly rules: readonly Id[] }
  | { readonly category: Id; readonly decision: 'deny'; readonly rules: readonly Id[]; readonly reason: DenialCode };

/** One condition of a permit rule that the request did not meet. */
export interface Miss {
  /** what did not match: a request field, `validity` or a `when` condition */
  readonly field: string;
  readonly expected: unknown;
  readonly actual: unknown;
  readonly message: LocalizedText;
}

/** A permit rule that would have permitted a denied category but for a few misses. */
export interface NearMiss {
  readonly category: Id;
  readonly rule: Id;
  readonly citation: string;
  readonly misses: readonly Miss[];
}

/** The evaluation of a request, before the service gives it an id (CONTRACT 2.3). */
export interface Evaluation {
  readonly decision: Effect;
  readonly categories: readonly CategoryDecision[];
  readonly reasons: readonly Reason[];
  readonly obligations: readonly Obligation[];
  readonly nearMisses: readonly NearMiss[];
  readonly policyVersion: string;
  readonly evaluatedAt: string;
}

export interface Decision extends Evaluation {
  readonly decisionId: string;
}

/** A position in a source file, 1-based. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

export type Severity = 'error' | 'warning';

/** A finding about a rule, policy or test file: errors block loading, warnings inform. */
export interface Diagnostic {
  readonly severity: Severity;
  readonly code: string;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** JSON Pointer inside the document, e.g. `/rules/3/providers/0` */
  readonly path?: string;
}

export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });

/** A request-level fault that stops evaluation: `malformed` is HTTP 400, `unknown` is 422. */
export interface RequestError {
  readonly path: string;
  readonly message: string;
}
export type RequestFault = { readonly kind: 'malformed' | 'unprocessable'; readonly errors: readonly RequestError[] };

/** A parsed file: its data plus a way back from a path inside it to line and column. */
export interface ParsedDocument {
  /** where to find it, for messages (as given on the command line) */
  readonly file: string;
  /** a name that does not depend on the working directory: `rules/nsoc.yaml` */
  readonly name: string;
  /** sha256 of the exact bytes, for policyVersion */
  readonly digest: string;
  /** the exact text, kept so each loaded version can be archived */
  readonly text: string;
  readonly value: unknown;
  locate(path: readonly (string | number)[], at?: 'key' | 'value'): SourcePosition | undefined;
}
