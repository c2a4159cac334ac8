// Text that came from outside (a refused body, a rule file) on its way to a person: a spreadsheet
// cell or a terminal. Control characters other than tab, line feed and carriage return (which
// record and line breaks need) are replaced, so that no ESC or BEL reaches a terminal and no
// cell hides text; CSV writers also neutralise formulas (csv-stringify's escape_formulas).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

/** `text` with every control character but tab, line feed and carriage return replaced by U+FFFD. */
export const printable = (text: string): string => (CONTROL.test(text) ? text.replace(CONTROL, '\uFFFD') : text);
