// The hash chain: each entry's hash covers its content and the hash of the entry before it.
import { createHash } from 'node:crypto';
import type { EntryDraft, LogEntry } from './types.js';

export const GENESIS = `sha256:${'0'.repeat(64)}`;

/** JSON with sorted keys, so a hash does not depend on the order fields were written in. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashOf(entry: Omit<LogEntry, 'hash'>): string {
  return `sha256:${createHash('sha256').update(canonical(entry)).digest('hex')}`;
}

export function seal(draft: EntryDraft, seq: number, prevHash: string): LogEntry {
  const body = { ...draft, seq, prevHash } as Omit<LogEntry, 'hash'>;
  return { ...body, hash: hashOf(body) } as LogEntry;
}

/** Re-derives the hash of a stored entry: equal to its `hash` unless something changed it. */
export function intact(entry: LogEntry): boolean {
  const { hash, ...body } = entry;
  return hashOf(body) === hash;
}
