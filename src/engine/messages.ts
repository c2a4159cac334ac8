// Every message a decision carries, in Dutch and English, from one table keyed by code: a code
// cannot exist without its message, since the table's type requires an entry for each.
import type { Covenant } from '../domain/covenant.js';
import type { CheckedRequest, Id, LocalizedText, Name, ReasonCode, Validity } from '../domain/types.js';
import { isoTime } from '../compile/time.js';

export interface MessageParams {
  readonly covenant: Covenant;
  readonly request: CheckedRequest;
  /** the instant evaluated; only request-level messages name it, as only they are made per request */
  readonly at: number;
  readonly category?: Id;
  readonly rule?: Id;
  readonly citation?: string;
  /** for `approval-required`: the kinds the case lacks */
  readonly approvals?: readonly Id[];
}

type Lang = 'nl' | 'en';

/** An id with its name from the vocabulary beside it, in one language: `Belastingdienst (belastingdienst)`. */
function named(vocabulary: ReadonlyMap<Id, { readonly name: Name }>, id: Id, lang: Lang): string {
  const name = vocabulary.get(id)?.name;
  const text = name === undefined ? id : typeof name === 'string' ? name : name[lang];
  return text === id ? id : `${text} (${id})`;
}

/** Every phrase of one message in both languages, from one function of the language. */
const both = (f: (lang: Lang, n: (m: ReadonlyMap<Id, { readonly name: Name }>, id: Id) => string) => string): LocalizedText => ({
  nl: f('nl', (m, id) => named(m, id, 'nl')),
  en: f('en', (m, id) => named(m, id, 'en')),
});

/** A validity period, inclusive at both ends, with its open ends said as open. */
function period(v: Validity, lang: Lang): string {
  const from = v.from === undefined ? undefined : isoTime(v.from);
  const until = v.until === undefined ? undefined : isoTime(v.until);
  if (lang === 'nl') return from && until ? `van ${from} tot en met ${until}` : from ? `vanaf ${from}` : until ? `tot en met ${until}` : 'altijd';
  return from && until ? `from ${from} through ${until}` : from ? `from ${from}` : until ? `through ${until}` : 'always';
}

/** The instant evaluated, in UTC and as the request gave it (or that it is the service's clock). */
function instant(p: MessageParams, lang: Lang): string {
  const utc = isoTime(p.at);
  const given = p.request.requestedAt;
  if (given === undefined) return lang === 'nl' ? `${utc} (nu: het verzoek noemt geen tijdstip)` : `${utc} (now: the request gives no time)`;
  if (given === utc) return utc;
  return lang === 'nl' ? `${utc} (opgegeven als ${given})` : `${utc} (given as ${given})`;
}

const REASONS: { readonly [C in ReasonCode]: (p: MessageParams) => LocalizedText } = {
  'covenant-not-in-force': (p) =>
    both((lang) =>
      lang === 'nl'
        ? `Het convenant ${p.covenant.info.id} geldt ${period(p.covenant.info.validity, lang)}; de uitwisseling is op ${instant(p, lang)}.`
        : `Covenant ${p.covenant.info.id} is in force ${period(p.covenant.info.validity, lang)}; the exchange is at ${instant(p, lang)}.`,
    ),
  'legal-basis-not-in-force': (p) => {
    const lb = basis(p);
    return both((lang) =>
      lang === 'nl'
        ? `De grondslag ${lb.id} (${lb.citation}) geldt ${period(lb.validity, lang)}; de uitwisseling is op ${instant(p, lang)}.`
        : `Legal basis ${lb.id} (${lb.citation}) is in force ${period(lb.validity, lang)}; the exchange is at ${instant(p, lang)}.`,
    );
  },
  'legal-basis-not-available-to-provider': (p) => {
    const lb = basis(p);
    return both((lang, n) => {
      const who = [...lb.providers].map((id) => n(p.covenant.partners, id)).join(', ');
      return lang === 'nl'
        ? `${n(p.covenant.partners, p.request.provider)} kan zich voor verstrekking niet beroepen op de grondslag ${lb.id} (${lb.citation}); dat kunnen alleen: ${who}.`
        : `${n(p.covenant.partners, p.request.provider)} cannot invoke legal basis ${lb.id} (${lb.citation}) to provide data; only these can: ${who}.`;
    });
  },
  'legal-basis-does-not-cover-purpose': (p) => {
    const lb = basis(p);
    return both((lang, n) => {
      const covered = (lb.purposes ?? []).map((id) => n(p.covenant.purposes, id)).join(', ');
      return lang === 'nl'
        ? `De grondslag ${lb.id} (${lb.citation}) dekt het doel ${n(p.covenant.purposes, p.request.purpose)} niet, alleen: ${covered}.`
        : `Legal basis ${lb.id} (${lb.citation}) does not cover purpose ${n(p.covenant.purposes, p.request.purpose)}, only: ${covered}.`;
    });
  },
  'approval-required': (p) => {
    const lb = basis(p);
    return both((lang, n) => {
      const missing = (p.approvals ?? []).map((id) => approval(p, id, lang, n)).join(lang === 'nl' ? ' en ' : ' and ');
      const c = p.request.caseReference;
      const none =
        c === undefined
          ? lang === 'nl'
            ? 'het verzoek noemt geen zaak (caseReference) waarvoor die verleend kan zijn'
            : 'the request names no case (caseReference) it could be granted for'
          : lang === 'nl'
            ? `voor zaak ${c} is die op ${instant(p, lang)} niet van kracht`
            : `none is in force for case ${c} at ${instant(p, lang)}`;
      if (p.rule === undefined) {
        return lang === 'nl' ? `De grondslag ${lb.id} (${lb.citation}) vereist vooraf ${missing}; ${none}.` : `Legal basis ${lb.id} (${lb.citation}) requires ${missing} first; ${none}.`;
      }
      const [category, provider, recipient] = [n(p.covenant.categories, p.category ?? ''), n(p.covenant.partners, p.request.provider), n(p.covenant.partners, p.request.recipient)];
      return lang === 'nl'
        ? `${p.citation} staat pas na ${missing} toe dat ${provider} ${category} verstrekt aan ${recipient}; ${none}.`
        : `${p.citation} permits ${provider} to provide ${category} to ${recipient} only after ${missing}; ${none}.`;
    });
  },
  'legal-basis-does-not-cover-category': (p) => {
    const lb = basis(p);
    return both((lang, n) => {
      const covered = lb.categories.map((id) => n(p.covenant.categories, id)).join(', ');
      return lang === 'nl'
        ? `De grondslag ${lb.id} (${lb.citation}) dekt de gegevenscategorie ${n(p.covenant.categories, p.category ?? '')} niet, alleen: ${covered}.`
        : `Legal basis ${lb.id} (${lb.citation}) does not cover data category ${n(p.covenant.categories, p.category ?? '')}, only: ${covered}.`;
    });
  },
  'no-permitting-rule': (p) =>
    both((lang, n) => {
      const [category, provider, recipient, purpose] = [n(p.covenant.categories, p.category ?? ''), n(p.covenant.partners, p.request.provider), n(p.covenant.partners, p.request.recipient), n(p.covenant.purposes, p.request.purpose)];
      return lang === 'nl'
        ? `Geen artikel van het convenant staat toe dat ${provider} ${category} verstrekt aan ${recipient} voor ${purpose}.`
        : `No article of the covenant permits ${provider} to provide ${category} to ${recipient} for ${purpose}.`;
    }),
  'permitted-by-rule': (p) =>
    both((lang, n) => {
      const [category, provider, recipient] = [n(p.covenant.categories, p.category ?? ''), n(p.covenant.partners, p.request.provider), n(p.covenant.partners, p.request.recipient)];
      return lang === 'nl' ? `${p.citation} staat toe dat ${provider} ${category} verstrekt aan ${recipient}.` : `${p.citation} permits ${provider} to provide ${category} to ${recipient}.`;
    }),
  'denied-by-rule': (p) =>
    both((lang, n) => {
      const [category, provider, recipient] = [n(p.covenant.categories, p.category ?? ''), n(p.covenant.partners, p.request.provider), n(p.covenant.partners, p.request.recipient)];
      return lang === 'nl' ? `${p.citation} verbiedt dat ${provider} ${category} verstrekt aan ${recipient}.` : `${p.citation} forbids ${provider} to provide ${category} to ${recipient}.`;
    }),
};

/** An approval kind by its name, with its citation when the covenant gives one. */
function approval(p: MessageParams, id: Id, lang: Lang, n: (m: ReadonlyMap<Id, { readonly name: Name }>, id: Id) => string): string {
  const citation = p.covenant.approvals.get(id)?.citation;
  const name = n(p.covenant.approvals, id);
  return citation === undefined ? name : `${name} (${citation})`;
}

/** The request's legal basis; checkRequest established that the covenant defines it. */
function basis(p: MessageParams) {
  const lb = p.covenant.legalBases.get(p.request.legalBasis);
  if (!lb) throw new Error(`legal basis ${p.request.legalBasis} is not defined`);
  return lb;
}

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
  /** A request field that a permit rule does not list, with the values it does list that could be used. */
  field(c: Covenant, citation: string, field: 'provider' | 'recipient' | 'purpose' | 'legalBasis', expected: readonly Id[], actual: Id): LocalizedText {
    const vocabulary = field === 'purpose' ? c.purposes : field === 'legalBasis' ? undefined : c.partners;
    const say = (id: Id, lang: Lang): string => (vocabulary ? named(vocabulary, id, lang) : `${id} (${c.legalBases.get(id)?.citation ?? id})`);
    const some = (lang: Lang): string => {
      const shown = expected.slice(0, MAX_LISTED).map((id) => clip(say(id, lang)));
      const more = expected.length > MAX_LISTED ? (lang === 'nl' ? ` en ${expected.length - MAX_LISTED} andere` : ` and ${expected.length - MAX_LISTED} others`) : '';
      return `${shown.join(lang === 'nl' ? ' of ' : ' or ')}${more}`;
    };
    const nounNl = { provider: 'de verstrekker', recipient: 'de ontvanger', purpose: 'het doel', legalBasis: 'de grondslag' }[field];
    const nounEn = { provider: 'the provider', recipient: 'the recipient', purpose: 'the purpose', legalBasis: 'the legal basis' }[field];
    return {
      nl: `${citation} zou dit toestaan als ${nounNl} ${some('nl')} was; het verzoek noemt ${clip(say(actual, 'nl'))}.`,
      en: `${citation} would permit this if ${nounEn} were ${some('en')}; the request names ${clip(say(actual, 'en'))}.`,
    };
  },
  /** Approvals a permit rule requires that the request's case lacks. */
  approvals(c: Covenant, citation: string, missing: readonly Id[], caseReference: string | undefined): LocalizedText {
    const kinds = (lang: Lang): string => missing.map((id) => clip(named(c.approvals, id, lang))).join(lang === 'nl' ? ' en ' : ' and ');
    return caseReference === undefined
      ? { nl: `${citation} vereist vooraf ${kinds('nl')} voor de zaak; het verzoek noemt geen zaak (caseReference).`, en: `${citation} requires ${kinds('en')} for the case first; the request names no case (caseReference).` }
      : { nl: `${citation} vereist vooraf ${kinds('nl')}; voor zaak ${clip(caseReference)} is die niet van kracht.`, en: `${citation} requires ${kinds('en')} first; none is in force for case ${clip(caseReference)}.` };
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
    // `unit` and `function` come from the caller's key, not from the request
    const key = fact === 'unit' || fact === 'function';
    const [nl, en] = key ? ['De sleutel van de vrager', "The caller's key"] : ['Het verzoek', 'The request'];
    return {
      nl: `${absent ? `${nl} geeft geen ${f}` : `${nl} geeft ${f} = ${show(actual)}`}; ${asks.nl}.`,
      en: `${absent ? `${en} gives no ${f}` : `${en} gives ${f} = ${show(actual)}`}; ${asks.en}.`,
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
