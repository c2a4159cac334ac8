// Every message a decision carries, in Dutch and English, from one table keyed by code: a code
// cannot exist without its message, since the table's type requires an entry for each.
import type { ReasonCode, LocalizedText, Id } from '../domain/types.js';

export interface MessageParams {
  readonly provider: Id;
  readonly recipient: Id;
  readonly purpose: Id;
  readonly legalBasis: Id;
  readonly legalBasisCitation?: string;
  readonly category?: Id;
  readonly rule?: Id;
  readonly citation?: string;
}

const REASONS: { readonly [C in ReasonCode]: (p: MessageParams) => LocalizedText } = {
  'covenant-not-in-force': () => ({
    nl: 'Het convenant is niet van kracht op het moment van de uitwisseling.',
    en: 'The covenant is not in force at the time of the exchange.',
  }),
  'legal-basis-not-in-force': (p) => ({
    nl: `De grondslag ${p.legalBasis} (${p.legalBasisCitation}) is niet van kracht op het moment van de uitwisseling.`,
    en: `Legal basis ${p.legalBasis} (${p.legalBasisCitation}) is not in force at the time of the exchange.`,
  }),
  'legal-basis-not-available-to-provider': (p) => ({
    nl: `${p.provider} kan zich voor verstrekking niet beroepen op de grondslag ${p.legalBasis} (${p.legalBasisCitation}).`,
    en: `${p.provider} cannot invoke legal basis ${p.legalBasis} (${p.legalBasisCitation}) to provide data.`,
  }),
  'legal-basis-does-not-cover-purpose': (p) => ({
    nl: `De grondslag ${p.legalBasis} (${p.legalBasisCitation}) dekt het doel ${p.purpose} niet.`,
    en: `Legal basis ${p.legalBasis} (${p.legalBasisCitation}) does not cover purpose ${p.purpose}.`,
  }),
  'legal-basis-does-not-cover-category': (p) => ({
    nl: `De grondslag ${p.legalBasis} (${p.legalBasisCitation}) dekt de gegevenscategorie ${p.category} niet.`,
    en: `Legal basis ${p.legalBasis} (${p.legalBasisCitation}) does not cover data category ${p.category}.`,
  }),
  'no-permitting-rule': (p) => ({
    nl: `Geen artikel van het convenant staat verstrekking van ${p.category} door ${p.provider} aan ${p.recipient} voor ${p.purpose} toe.`,
    en: `No article of the covenant permits ${p.provider} to provide ${p.category} to ${p.recipient} for ${p.purpose}.`,
  }),
  'permitted-by-rule': (p) => ({
    nl: `${p.citation} staat verstrekking van ${p.category} door ${p.provider} aan ${p.recipient} toe.`,
    en: `${p.citation} permits ${p.provider} to provide ${p.category} to ${p.recipient}.`,
  }),
  'denied-by-rule': (p) => ({
    nl: `${p.citation} verbiedt verstrekking van ${p.category} door ${p.provider} aan ${p.recipient}.`,
    en: `${p.citation} forbids ${p.provider} to provide ${p.category} to ${p.recipient}.`,
  }),
};

export const reasonMessage = (code: ReasonCode, params: MessageParams): LocalizedText => REASONS[code](params);

// A message names values from rule files and requests; some are long (a list of thousands of
// codes in a `when`), and a near miss is in every denied answer: each value is shown up to a
// bound, and a list up to its first items, so that no message outgrows a line or two.
const MAX_SHOWN = 120;
const MAX_LISTED = 10;
const clip = (text: string): string => (text.length <= MAX_SHOWN ? text : `${text.slice(0, MAX_SHOWN - 1)}…`);
const show = (v: unknown): string => clip(typeof v === 'string' ? `\`${v}\`` : JSON.stringify(v) ?? 'undefined');
const list = (v: readonly unknown[]): string =>
  v.length <= MAX_LISTED ? v.map(show).join(', ') : `${v.slice(0, MAX_LISTED).map(show).join(', ')} (+${v.length - MAX_LISTED})`;

/** Near-miss phrases: what a permit rule wanted against what the request had. */
export const missMessage = {
  field(citation: string, field: string, expected: readonly unknown[], actual: unknown): LocalizedText {
    const nlField: Record<string, string> = {
      provider: 'verstrekker',
      recipient: 'ontvanger',
      purpose: 'doel',
      legalBasis: 'grondslag',
    };
    return {
      nl: `${citation} zou dit toestaan voor ${nlField[field] ?? field} ${list(expected)}; het verzoek noemt ${show(actual)}`,
      en: `${citation} would permit this for ${field} ${list(expected)}; the request names ${show(actual)}`,
    };
  },
  /**
   * A `when` leaf that did not hold, as two sentences a reader can act on: what the request gave
   * (or that it gave nothing) and what the article asks, in grammatical Dutch and English.
   */
  condition(citation: string, fact: string, operator: string, expected: unknown, actual: unknown): LocalizedText {
    const f = `\`${fact}\``;
    const want = Array.isArray(expected) ? `[${list(expected)}]` : show(expected);
    const asks = conditionPhrase(citation, f, operator, expected, want);
    const absent = actual === null || actual === undefined;
    return {
      nl: `${absent ? `Het verzoek geeft geen ${f}` : `Het verzoek geeft ${f} = ${show(actual)}`}; ${asks.nl}.`,
      en: `${absent ? `The request gives no ${f}` : `The request gives ${f} = ${show(actual)}`}; ${asks.en}.`,
    };
  },
};

/** What one operator of a `when` asks of a fact, as a clause with the article as its subject. */
function conditionPhrase(citation: string, f: string, operator: string, expected: unknown, want: string): LocalizedText {
  // A comparison with null asks for a fact to be given, or to be left out.
  if (expected === null && operator === 'notEqual') return { nl: `${citation} vereist dat ${f} is opgegeven`, en: `${citation} requires ${f} to be given` };
  if (expected === null && operator === 'equal') return { nl: `${citation} vereist dat ${f} ontbreekt`, en: `${citation} requires ${f} to be absent` };
  switch (operator) {
    case 'lessThanInclusive':
      return { nl: `${citation} staat voor ${f} hoogstens ${want} toe`, en: `${citation} allows ${f} of at most ${want}` };
    case 'lessThan':
      return { nl: `${citation} staat voor ${f} alleen minder dan ${want} toe`, en: `${citation} allows ${f} below ${want} only` };
    case 'greaterThanInclusive':
      return { nl: `${citation} vereist voor ${f} minstens ${want}`, en: `${citation} requires ${f} of at least ${want}` };
    case 'greaterThan':
      return { nl: `${citation} vereist voor ${f} meer dan ${want}`, en: `${citation} requires ${f} above ${want}` };
    case 'equal':
      return { nl: `${citation} vereist dat ${f} gelijk is aan ${want}`, en: `${citation} requires ${f} to be ${want}` };
    case 'notEqual':
      return { nl: `${citation} vereist dat ${f} niet gelijk is aan ${want}`, en: `${citation} requires ${f} not to be ${want}` };
    case 'in':
      return { nl: `${citation} vereist dat ${f} een van ${want} is`, en: `${citation} requires ${f} to be one of ${want}` };
    case 'notIn':
      return { nl: `${citation} vereist dat ${f} geen van ${want} is`, en: `${citation} requires ${f} to be none of ${want}` };
    case 'contains':
      return { nl: `${citation} vereist dat ${f} ${want} bevat`, en: `${citation} requires ${f} to contain ${want}` };
    case 'doesNotContain':
      return { nl: `${citation} vereist dat ${f} ${want} niet bevat`, en: `${citation} requires ${f} not to contain ${want}` };
    default:
      return { nl: `${citation} vereist dat ${f} voldoet aan ${show(operator)} ${want}`, en: `${citation} requires ${f} to satisfy ${show(operator)} ${want}` };
  }
}
