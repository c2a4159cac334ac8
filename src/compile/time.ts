// Validity instants (CONTRACT 2.2): a date means the whole UTC day, a date-time is exact, both
// bounds are inclusive. Times are milliseconds since the epoch.
import type { Validity } from '../domain/types.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/i;
const DAY_MS = 86_400_000;

function realDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/**
 * Parses a bound. `until` turns a date into the last millisecond of that UTC day.
 * Returns undefined for text that is not a real date or date-time (2025-02-30, 24:00).
 */
export function parseInstant(text: string, bound: 'from' | 'until'): number | undefined {
  const date = DATE.exec(text);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    if (!realDate(y, m, d)) return undefined;
    const start = Date.UTC(y, m - 1, d);
    return bound === 'from' ? start : start + DAY_MS - 1;
  }
  const dt = DATE_TIME.exec(text);
  if (!dt) return undefined;
  const [y, m, d, hh, mm, ss] = [1, 2, 3, 4, 5, 6].map((i) => Number(dt[i] ?? 0)) as [number, number, number, number, number, number];
  if (!realDate(y, m, d) || hh > 23 || mm > 59 || ss > 59) return undefined;
  const zone = dt[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const [zh, zm] = zone.slice(1).split(':').map(Number) as [number, number];
    if (zh > 23 || zm > 59) return undefined;
  }
  const t = Date.parse(zone ? text : `${text}Z`);
  return Number.isNaN(t) ? undefined : t;
}

let lastRequestText: string | undefined;
let lastRequestTime: number | undefined;

/**
 * A request time: an RFC 3339 date-time already checked by the request schema. A request's time is
 * read by the schema, the clock-skew check and evaluation in turn, so the last one is kept.
 */
export function parseRequestTime(text: string): number | undefined {
  if (text !== lastRequestText) {
    lastRequestTime = parseRequestTimeNow(text);
    lastRequestText = text;
  }
  return lastRequestTime;
}

function parseRequestTimeNow(text: string): number | undefined {
  // RFC 3339 also allows a lowercase `t`/`z`, a space for `T`, and an offset without a colon.
  const normal = text
    .replace(/^(\d{4}-\d{2}-\d{2})[ tT]/, '$1T')
    .replace(/z$/, 'Z')
    .replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  return DATE_TIME.test(normal) ? parseInstant(normal, 'from') : undefined;
}

export function within(validity: Validity, t: number): boolean {
  return (validity.from === undefined || t >= validity.from) && (validity.until === undefined || t <= validity.until);
}

export function overlaps(a: Validity, b: Validity): boolean {
  const aFrom = a.from ?? -Infinity;
  const aUntil = a.until ?? Infinity;
  const bFrom = b.from ?? -Infinity;
  const bUntil = b.until ?? Infinity;
  return aFrom <= bUntil && bFrom <= aUntil;
}

// Decisions come many to the millisecond, each stamped with its time: the last one is kept.
let lastTime = Number.NaN;
let lastText = '';

export function isoTime(t: number): string {
  if (t !== lastTime) {
    lastText = new Date(t).toISOString();
    lastTime = t;
  }
  return lastText;
}

/**
 * The instant of an RFC 3339 date-time that the schemas accepted, leap seconds included: JavaScript
 * time has none (nor has POSIX time), so `23:59:60` is taken as the instant after `23:59:59`, the
 * next day's `00:00:00`. Date.parse gave NaN for it: a period bounded by one was answered 500,
 * or its bound silently dropped.
 */
export function instantOf(text: string): number {
  const leap = /:60(\.\d+)?([zZ]|[+-]\d{2}:\d{2})$/.exec(text);
  if (!leap) return Date.parse(text);
  return Date.parse(`${text.slice(0, leap.index)}:59${leap[2]}`) + 1000;
}
