// Checks a sequence of stored lines: each parses, each hash matches its content, seq counts up by
// one and each prevHash names the entry before. Used online, offline and on exports.
import type { LogEntry, Verification } from './types.js';
import { GENESIS, intact } from './chain.js';

export interface Line {
  readonly text: string;
  readonly file?: string;
  readonly line?: number;
}

export interface ChainStart {
  readonly seq: number;
  readonly hash: string;
}

export async function verifyLines(lines: AsyncIterable<Line>, start: ChainStart = { seq: 0, hash: GENESIS }): Promise<Verification> {
  let prev = start;
  let entries = 0;
  for await (const { text, file, line } of lines) {
    let entry: LogEntry;
    const where = { ...(file !== undefined && { file }), ...(line !== undefined && { line }) };
    try {
      entry = JSON.parse(text) as LogEntry;
      if (typeof entry !== 'object' || entry === null || typeof entry.seq !== 'number' || typeof entry.hash !== 'string') throw new Error('not an entry');
    } catch {
      return fail(entries, prev, { ...where, seq: prev.seq + 1, problem: 'unreadable', message: `the entry after seq ${prev.seq} cannot be read` });
    }
    if (!intact(text)) {
      return fail(entries, prev, { ...where, seq: entry.seq, problem: 'altered', message: `entry ${entry.seq} was altered: its content does not match its hash` });
    }
    if (entry.seq !== prev.seq + 1) {
      return fail(entries, prev, {
        ...where,
        seq: prev.seq + 1,
        problem: 'out-of-sequence',
        message: `expected entry ${prev.seq + 1} after ${prev.seq}, found ${entry.seq}: entries were removed, inserted or reordered`,
      });
    }
    if (entry.prevHash !== prev.hash) {
      return fail(entries, prev, {
        ...where,
        seq: entry.seq,
        problem: 'broken-link',
        message: `entry ${entry.seq} does not follow entry ${prev.seq}: an entry was replaced or inserted`,
      });
    }
    prev = { seq: entry.seq, hash: entry.hash };
    entries++;
  }
  return { ok: true, entries, ...(prev.seq > start.seq && { head: prev }) };
}

function fail(entries: number, prev: ChainStart, firstBad: NonNullable<Verification['firstBad']>): Verification {
  return { ok: false, entries, ...(prev.seq > 0 && { head: prev }), firstBad };
}

/** A log that verifies but whose archive of policy versions was altered is not intact either. */
export function withArchive(v: Verification, archive: { ok: boolean; altered: readonly string[] } | undefined): Verification {
  if (!v.ok || !archive || archive.ok) return v;
  return { ...v, ok: false, firstBad: { problem: 'altered', message: `archived policy version ${archive.altered.join(', ')} was altered: its files no longer match its hash` } };
}
