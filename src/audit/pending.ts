// A draft waiting in a log's queue for its group commit, as both backends keep it.
import { draftText, type DraftText } from './chain.js';
import type { EntryDraft, LogEntry } from './types.js';

/** what an append gives back: the entry; with its receipt; or with a receipt tied to its answer (`entry` parts) */
export type Wants = 'entry' | 'receipt' | 'receipt+entry';
export type Pending = { draft: EntryDraft; text: DraftText; wants: Wants; resolve: (e: LogEntry, receipt?: string) => void; reject: (e: Error) => void };

/**
 * A draft made ready for a queue and handed to `push`; `answer` makes what the caller is given of
 * it once it is durable. Rejects at once when the draft's text cannot be made.
 */
export function queued<T>(draft: EntryDraft, decisionJson: Uint8Array | undefined, wants: Wants, answer: (entry: LogEntry, receipt?: string) => T, push: (p: Pending) => void): Promise<T> {
  let text: DraftText;
  try {
    text = draftText(draft, decisionJson);
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
  return new Promise((resolve, reject) => push({ draft, text, wants, resolve: (entry, receipt) => resolve(answer(entry, receipt)), reject }));
}
