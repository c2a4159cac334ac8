// Exports of the log: streamed, oldest first, with a digest that ties the exported range to the
// hash chain, so a recipient can check that nothing was left out or altered.
import { createHash } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import type { DecisionLog, LogEntry } from '../audit/types.js';
import { printable } from '../domain/text.js';

export interface ExportDigest {
  from: string | null;
  to: string | null;
  count: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** the hash the first exported entry follows: the entry before the range */
  firstPrevHash: string | null;
  /** the hash of the last exported entry: compare it with the log's own chain */
  lastHash: string | null;
  /** sha256 of the exported bytes, exactly as sent */
  sha256: string;
  format: 'ndjson' | 'csv';
}

export const CSV_COLUMNS = [
  'seq', 'kind', 'id', 'at', 'provider', 'recipient', 'dataCategories', 'purpose', 'legalBasis', 'decision', 'reasons', 'obligations', 'policyVersion', 'callerKey', 'callerRole', 'callerPartner', 'status', 'prevHash', 'hash',
] as const;

function csvRow(e: LogEntry): string[] {
  const request = 'request' in e && typeof e.request === 'object' && e.request !== null ? (e.request as Record<string, unknown>) : {};
  const decided = e.kind === 'decision' || e.kind === 'simulation' ? e.decision : undefined;
  const caller = 'caller' in e ? e.caller : undefined;
  const list = (v: unknown): string => (Array.isArray(v) ? v.map(String).join(' ') : v === undefined ? '' : String(v));
  return [
    String(e.seq), e.kind, e.id, e.at,
    list(request.provider), list(request.recipient), list(request.dataCategories), list(request.purpose), list(request.legalBasis),
    decided?.decision ?? '',
    decided
      ? [...new Set(decided.reasons.map((r) => r.code))].join(' ')
      : e.kind === 'refusal'
        ? e.errors.map((x) => `${x.path} ${x.message}`).join('; ')
        : e.kind === 'approval'
          ? `${e.action} ${e.approval.id}: ${e.approval.kind} for case ${e.approval.caseReference}, ${e.approval.validFrom} to ${e.approval.validUntil}`
          : '',
    decided ? decided.obligations.map((o) => JSON.stringify(o)).join(' ') : '',
    'policyVersion' in e ? e.policyVersion : '',
    caller?.keyId ?? '', caller?.role ?? '', caller?.partner ?? '',
    e.kind === 'refusal' ? String(e.status) : '',
    e.prevHash, e.hash,
  ];
}

/**
 * The export as chunks of text, and its digest once the last chunk has gone. Never holds more
 * than one entry in memory.
 */
export async function* exportLog(
  log: DecisionLog,
  range: { from?: number; to?: number },
  format: 'ndjson' | 'csv',
  digest: (d: ExportDigest) => void,
): AsyncGenerator<string> {
  const hash = createHash('sha256');
  const d: ExportDigest = {
    from: range.from === undefined ? null : new Date(range.from).toISOString(),
    to: range.to === undefined ? null : new Date(range.to).toISOString(),
    count: 0, firstSeq: null, lastSeq: null, firstPrevHash: null, lastHash: null, sha256: '', format,
  };
  const emit = (text: string): string => {
    hash.update(text);
    return text;
  };
  // A partner's refused body is recorded as it came: in a spreadsheet, a cell such as `=HYPERLINK(…)`
  // would be a formula, so cells that start like one are quoted with an apostrophe (OWASP).
  const csv = (row: string[]): string => stringify([row.map(printable)], { escape_formulas: true });
  if (format === 'csv') yield emit(csv([...CSV_COLUMNS]));
  for await (const e of log.entries(range)) {
    d.count++;
    d.firstSeq ??= e.seq;
    d.firstPrevHash ??= e.prevHash;
    d.lastSeq = e.seq;
    d.lastHash = e.hash;
    yield emit(format === 'csv' ? csv(csvRow(e)) : JSON.stringify(e) + '\n');
  }
  d.sha256 = `sha256:${hash.digest('hex')}`;
  digest(d);
}

/** The digest of an export, without sending the export anywhere. */
export async function exportDigest(log: DecisionLog, range: { from?: number; to?: number }, format: 'ndjson' | 'csv'): Promise<ExportDigest> {
  let digest: ExportDigest | undefined;
  for await (const _ of exportLog(log, range, format, (d) => (digest = d)));
  // exportLog hands its digest over before it returns
  return digest as ExportDigest;
}
