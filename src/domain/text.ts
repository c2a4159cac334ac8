// Text that came from outside (a refused body, a rule file) on its way to a person: a spreadsheet
// cell or a terminal. Control characters other than tab, line feed and carriage return (which
// record and line breaks need) are replaced, so that no ESC or BEL reaches a terminal and no
// cell hides text; CSV writers also neutralise formulas (csv-stringify's escape_formulas).
import type { Id, Name } from './types.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

/** `text` with every control character but tab, line feed and carriage return replaced by U+FFFD. */
export const printable = (text: string): string => (CONTROL.test(text) ? text.replace(CONTROL, '\uFFFD') : text);

/**
 * An id with its name beside it, Dutch and English where they differ, for pages a reviewer reads:
 * `Belastingdienst / Tax Administration (belastingdienst)`; the id alone when it has no other name.
 */
export function nameBesideId(name: Name | undefined, id: Id): string {
  if (name === undefined) return id;
  const text = typeof name === 'string' ? name : name.nl === name.en ? name.nl : `${name.nl} / ${name.en}`;
  return text === id ? id : `${text} (${id})`;
}
