// The hash chain: each entry's hash covers its content and the hash of the entry before it.
//
// The hash is taken over the entry's JSON text as stored, up to its `hash` member, the last one:
// serialising once is what keeps an append cheap, and anyone can recompute it from a stored line
// (cut off `,"hash":"…"` before the closing brace). The line is the entry as JSON.stringify writes it.
import { hash as digest, type BinaryLike } from 'node:crypto';
import { jsonString } from '../domain/json.js';
import type { Caller, EntryDraft } from './types.js';

export const GENESIS = `sha256:${'0'.repeat(64)}`;

const sha256 = (data: BinaryLike): string => `sha256:${digest('sha256', data, 'hex')}`;

/**
 * A draft's JSON text as it is sealed: a string, or the text around the decision's JSON when that
 * comes ready-made as UTF-8 bytes (the service's answer): the bytes are then copied, not encoded again.
 */
export type DraftText = string | { readonly head: string; readonly decision: Uint8Array; readonly tail: string };

/**
 * The JSON text of a draft. A decision's JSON can come ready-made as UTF-8 bytes, because the
 * service sends the same text as its answer: the decision is then serialised and encoded once.
 */
export function draftText(draft: EntryDraft, decisionJson?: Uint8Array): DraftText {
  if (decisionJson === undefined || !('decision' in draft)) return JSON.stringify(draft);
  const q = jsonString;
  // INVARIANT: the members in the order the service builds a decision's draft, so the text is the
  // one JSON.stringify(draft) gives (a test holds them equal). Written out, as one string: taking
  // the other members apart with a rest pattern and serialising them cost more than the rest.
  const origin = draft.origin === undefined ? '' : `"origin":${JSON.stringify(draft.origin)},`;
  const approvals = draft.approvals === undefined ? '' : `"approvals":${JSON.stringify(draft.approvals)},`;
  const head = `{"kind":${q(draft.kind)},"id":${q(draft.id)},"at":${q(draft.at)},"caller":${callerJson(draft.caller)},"request":${JSON.stringify(draft.request)},${origin}${approvals}"decision":`;
  const tail = `,"policyVersion":${q(draft.policyVersion)}}`;
  return { head, decision: decisionJson, tail };
}

// A service has a few callers, each one frozen object per key (KeyStore), asking again and again.
const callers = new WeakMap<Caller, string>();

function callerJson(caller: Caller): string {
  if (!Object.isFrozen(caller)) return JSON.stringify(caller);
  let text = callers.get(caller);
  if (text === undefined) callers.set(caller, (text = JSON.stringify(caller)));
  return text;
}

/**
 * Room enough for the line sealInto() makes of `text` after an entry whose hash is `prevHash`, or
 * after one of ours: UTF-8 takes at most 3 bytes per UTF-16 unit, JSON at most 6 per character.
 */
export function lineBound(text: DraftText, prevHash: string): number {
  const bytes = typeof text === 'string' ? 3 * text.length : 3 * (text.head.length + text.tail.length) + text.decision.length;
  return bytes + 6 * Math.max(prevHash.length, GENESIS.length) + 128;
}

/**
 * Seals a draft into `out` from byte `at`: the line to store, with its newline. Returns where
 * the line ends and the entry's hash. `out` must have lineBound() bytes of room from `at`.
 */
export function sealInto(out: Buffer, at: number, text: DraftText, seq: number, prevHash: string): { end: number; hash: string } {
  let end = at;
  if (typeof text === 'string') end += out.write(text, end, 'utf8');
  else {
    end += out.write(text.head, end, 'utf8');
    out.set(text.decision, end);
    end += text.decision.length;
    end += out.write(text.tail, end, 'utf8');
  }
  // The text ends with the draft's closing brace; the chain's fields go before it.
  end += out.write(`,"seq":${seq},"prevHash":${jsonString(prevHash)}}`, end - 1, 'utf8') - 1;
  const hash = sha256(out.subarray(at, end));
  end += out.write(`,"hash":"${hash}"}\n`, end - 1, 'utf8') - 1;
  return { end, hash };
}

// A sealed line ends as sealInto() leaves it: its seq, the hash before it and its own hash, the
// last three members at the top level. Read from the end, since an entry's content (a refused
// body is recorded as it came) can hold members of the same names.
const SEAL = /,"seq":(\d+),"prevHash":"[^"\\]*","hash":"(sha256:[0-9a-f]{64})"\}$/;
const HASH_MEMBER = ',"hash":"sha256:'.length + 64 + '"}'.length;

/** The seq and hash a stored line was sealed with; undefined for a line not in that form. */
export function sealOf(line: string): { seq: number; hash: string } | undefined {
  const seal = SEAL.exec(line);
  return seal ? { seq: Number(seal[1]), hash: seal[2] as string } : undefined;
}

/**
 * Whether a stored line is exactly the text its hash was taken over, with that hash appended.
 * Taken from the stored text, never from what it parses to: two texts can parse to the same
 * entry (an escape's hex digits in upper case, 1E+300 for 1e+300), and a changed byte in either
 * must be noticed.
 */
export function intact(line: string): boolean {
  const seal = sealOf(line);
  return seal !== undefined && sha256(`${line.slice(0, line.length - HASH_MEMBER)}}`) === seal.hash;
}
