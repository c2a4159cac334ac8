// The hash chain: each entry's hash covers its content and the hash of the entry before it.
//
// The hash is taken over the entry's JSON text as stored, without its `hash` field: serialising
// once is what keeps an append cheap, and JSON.parse followed by JSON.stringify gives the same
// text back (keys keep their order), so anyone can recompute it from a stored line.
import { hash as digest } from 'node:crypto';
import type { EntryDraft, LogEntry } from './types.js';

export const GENESIS = `sha256:${'0'.repeat(64)}`;

const sha256 = (text: string): string => `sha256:${digest('sha256', text, 'hex')}`;

/**
 * The JSON text of a draft. A decision's text can come ready-made, because the service sends the
 * same text as its answer: the decision is then serialised once, not twice.
 */
export function draftText(draft: EntryDraft, decisionJson?: string): string {
  if (decisionJson === undefined || !('decision' in draft)) return JSON.stringify(draft);
  const { decision: _, policyVersion, ...head } = draft;
  // Whatever the key order here, the line verifies: the hash covers the text as stored.
  return `${JSON.stringify(head).slice(0, -1)},"decision":${decisionJson},"policyVersion":${JSON.stringify(policyVersion)}}`;
}

/** Seals a draft, given as its JSON text, into an entry and the exact line to store (without its newline). */
export function seal(draft: EntryDraft, text: string, seq: number, prevHash: string): { entry: LogEntry; line: string } {
  const body = `${text.slice(0, -1)},"seq":${seq},"prevHash":${JSON.stringify(prevHash)}}`;
  const hash = sha256(body);
  return { entry: { ...draft, seq, prevHash, hash }, line: `${body.slice(0, -1)},"hash":"${hash}"}` };
}

/** Re-derives the hash of a stored entry: equal to its `hash` unless something changed it. */
export function intact(entry: LogEntry): boolean {
  const { hash, ...body } = entry;
  return sha256(JSON.stringify(body)) === hash;
}
