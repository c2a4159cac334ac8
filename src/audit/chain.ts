// The hash chain: each entry's hash covers its content and the hash of the entry before it.
//
// The hash is taken over the entry's JSON text as stored, without its `hash` field: serialising
// once is what keeps an append cheap, and JSON.parse followed by JSON.stringify gives the same
// text back (keys keep their order), so anyone can recompute it from a stored line.
import { createHash } from 'node:crypto';
import type { EntryDraft, LogEntry } from './types.js';

export const GENESIS = `sha256:${'0'.repeat(64)}`;

const sha256 = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** Seals a draft into an entry and the exact line to store (without its newline). */
export function seal(draft: EntryDraft, seq: number, prevHash: string): { entry: LogEntry; line: string } {
  const body = { ...draft, seq, prevHash };
  const text = JSON.stringify(body);
  const hash = sha256(text);
  return { entry: { ...body, hash } as LogEntry, line: `${text.slice(0, -1)},"hash":${JSON.stringify(hash)}}` };
}

/** Re-derives the hash of a stored entry: equal to its `hash` unless something changed it. */
export function intact(entry: LogEntry): boolean {
  const { hash, ...body } = entry;
  return sha256(JSON.stringify(body)) === hash;
}
