// Verifies covenant's receipts and checkpoints offline, with nothing but node:crypto.
//
// Self-contained on purpose: a partner's integrator may copy this one file (or its build,
// dist/verifier/receipt.js) into their own system and check every answer they are given without
// trusting covenant's operator. It knows:
//   - RFC 9162 §2.1 Merkle trees: leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right),
//     inclusion proofs (§2.1.3.2) and consistency proofs (§2.1.4.2);
//   - C2SP signed notes with Ed25519 (https://c2sp.org/signed-note), their verifier keys, and
//     C2SP tlog checkpoints (https://c2sp.org/tlog-checkpoint);
//   - covenant's receipt: {seq, leafHash, treeSize, rootHash, inclusionProof, checkpoint, entry}.
// Hashes in receipts are base64 (standard alphabet, padded), as a checkpoint's root line is.
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';

export interface Receipt {
  /** the entry's position in the log, from 1; its leaf index is seq - 1 */
  readonly seq: number;
  readonly leafHash: string;
  readonly treeSize: number;
  readonly rootHash: string;
  /** sibling hashes from the leaf up, as RFC 9162's PATH */
  readonly inclusionProof: readonly string[];
  /** the signed note of the checkpoint for treeSize and rootHash */
  readonly checkpoint: string;
  /** the stored entry is before + the answer's decision JSON + after: lets a partner tie the leaf to its answer */
  readonly entry?: { readonly before: string; readonly after: string };
}

export interface VerifierKey {
  readonly name: string;
  readonly keyId: Buffer;
  readonly publicKey: KeyObject;
}

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: string;
  readonly extensions: readonly string[];
}

export type Verdict<T = undefined> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const SIG_ED25519 = 0x01;
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

const sha256 = (...parts: readonly Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

export const hashLeaf = (entry: Uint8Array): Buffer => sha256(Buffer.of(0), entry);
export const hashChildren = (left: Uint8Array, right: Uint8Array): Buffer => sha256(Buffer.of(1), left, right);

const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

/** RFC 9162 §2.1.3.2: whether `proof` shows leaf `index` with `leaf` hash in the tree of `size` with `root`. */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else r = hashChildren(r, p);
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && Buffer.compare(r, root) === 0;
}

/** RFC 9162 §2.1.4.2: whether `proof` shows the tree of `size2` with `root2` extends the one of `size1` with `root1`. */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < size1) return false;
  if (size1 === size2) return proof.length === 0 && Buffer.compare(root1, root2) === 0;
  if (size1 === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Uint8Array = path[0] as Uint8Array;
  let sr: Uint8Array = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else sr = hashChildren(sr, c);
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && Buffer.compare(fr, root1) === 0 && Buffer.compare(sr, root2) === 0;
}

function isPowerOfTwo(n: number): boolean {
  let m = n;
  while (m > 1 && !isOdd(m)) m = half(m);
  return m === 1;
}

/** A C2SP verifier key: `name+hhhhhhhh+base64(0x01 || 32-byte Ed25519 public key)`. */
export function parseVerifierKey(text: string): Verdict<VerifierKey> {
  const parts = splitKey(text, 3);
  if (!parts) return { ok: false, reason: 'a verifier key is `name+keyid+key`' };
  const [name, id, key] = parts as [string, string, string];
  if (!validKeyName(name)) return { ok: false, reason: `\`${name}\` is not a key name` };
  const raw = Buffer.from(key, 'base64');
  if (raw.length !== 33 || raw[0] !== SIG_ED25519 || raw.toString('base64') !== key) return { ok: false, reason: 'the key is not a base64 Ed25519 key (type 0x01)' };
  const keyId = noteKeyId(name, SIG_ED25519, raw.subarray(1));
  if (!/^[0-9a-f]{8}$/.test(id) || keyId.toString('hex') !== id) return { ok: false, reason: 'the key id does not match the name and key' };
  return { ok: true, value: { name, keyId, publicKey: createPublicKey({ key: Buffer.concat([ED25519_SPKI, raw.subarray(1)]), format: 'der', type: 'spki' }) } };
}

/** SHA-256(name || "\n" || type || public key)[:4], as signed notes and cosignatures compute key ids. */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): Buffer {
  return sha256(Buffer.from(`${name}\n`, 'utf8'), Buffer.of(type), publicKey).subarray(0, 4);
}

/**
 * A key's text split at its first `n - 1` plus signs: a name has none and a key id neither, but
 * the base64 key at the end may well.
 */
export function splitKey(text: string, n: number): string[] | undefined {
  const parts: string[] = [];
  let rest = text.trim();
  for (let i = 1; i < n; i++) {
    const at = rest.indexOf('+');
    if (at === -1) return undefined;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  return parts;
}

export const validKeyName = (name: string): boolean => name.length > 0 && !/[\s+]/u.test(name);

/** Splits a signed note into its text and its signature lines; the text is what was signed. */
export function splitNote(note: string): Verdict<{ text: string; signatures: { name: string; blob: Buffer }[] }> {
  const at = note.lastIndexOf('\n\n');
  if (at === -1 || !note.endsWith('\n')) return { ok: false, reason: 'not a signed note: no blank line before the signatures' };
  const text = note.slice(0, at + 1);
  const signatures: { name: string; blob: Buffer }[] = [];
  for (const line of note.slice(at + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!m) return { ok: false, reason: 'a signature line is malformed' };
    signatures.push({ name: m[1] as string, blob: Buffer.from(m[2] as string, 'base64') });
  }
  if (signatures.length === 0) return { ok: false, reason: 'the note has no signature' };
  return { ok: true, value: { text, signatures } };
}

/** The note's text, when `key` signed it. */
export function openNote(note: string, key: VerifierKey): Verdict<string> {
  const split = splitNote(note);
  if (!split.ok) return split;
  for (const s of split.value.signatures) {
    if (s.name !== key.name || s.blob.length !== 68 || Buffer.compare(s.blob.subarray(0, 4), key.keyId) !== 0) continue;
    if (verifySignature(null, Buffer.from(split.value.text, 'utf8'), key.publicKey, s.blob.subarray(4))) return { ok: true, value: split.value.text };
    return { ok: false, reason: `the signature by \`${key.name}\` does not verify` };
  }
  return { ok: false, reason: `not signed by the log key \`${key.name}\`` };
}

/** A checkpoint's text: origin, tree size, base64 root hash, then any extension lines. */
export function parseCheckpoint(text: string): Verdict<Checkpoint> {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') return { ok: false, reason: 'a checkpoint has an origin, a size and a root hash, each on its own line' };
  const [origin, size, root] = lines as [string, string, string];
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) return { ok: false, reason: 'the checkpoint size is not a decimal number' };
  if (Buffer.from(root, 'base64').length !== 32 || Buffer.from(root, 'base64').toString('base64') !== root) return { ok: false, reason: 'the checkpoint root is not a base64 SHA-256 hash' };
  return { ok: true, value: { origin, size: Number(size), rootHash: root, extensions: lines.slice(3, -1) } };
}

/** The signed checkpoint in a note, when `key` signed it and it names the key as its origin. */
export function openCheckpoint(note: string, key: VerifierKey): Verdict<Checkpoint> {
  const text = openNote(note, key);
  if (!text.ok) return text;
  const cp = parseCheckpoint(text.value);
  if (cp.ok && cp.value.origin !== key.name) return { ok: false, reason: `the checkpoint's origin \`${cp.value.origin}\` is not the log key's name \`${key.name}\`` };
  return cp;
}

const b64 = (s: unknown): Buffer | undefined => {
  if (typeof s !== 'string') return undefined;
  const b = Buffer.from(s, 'base64');
  return b.length === 32 && b.toString('base64') === s ? b : undefined;
};

/**
 * Checks a receipt on its own: the checkpoint is signed by the log key and states the receipt's
 * tree size and root, and the inclusion proof leads from the leaf to that root. With `answer`
 * (the answer's body, as received), also that the leaf is the entry holding that answer's decision.
 */
export function verifyReceipt(receipt: Receipt, key: VerifierKey, answer?: string): Verdict<Checkpoint> {
  const leaf = b64(receipt.leafHash);
  const root = b64(receipt.rootHash);
  const proof = Array.isArray(receipt.inclusionProof) ? receipt.inclusionProof.map(b64) : [undefined];
  if (!leaf || !root || proof.some((p) => p === undefined) || !Number.isSafeInteger(receipt.seq) || !Number.isSafeInteger(receipt.treeSize) || typeof receipt.checkpoint !== 'string') {
    return { ok: false, reason: 'not a receipt: seq, leafHash, treeSize, rootHash, inclusionProof and checkpoint are required' };
  }
  const cp = openCheckpoint(receipt.checkpoint, key);
  if (!cp.ok) return cp;
  if (cp.value.size !== receipt.treeSize || cp.value.rootHash !== receipt.rootHash) return { ok: false, reason: 'the checkpoint is for another tree size or root than the receipt' };
  if (!verifyInclusion(receipt.seq - 1, receipt.treeSize, leaf, proof as Buffer[], root)) return { ok: false, reason: `the inclusion proof does not lead from entry ${receipt.seq} to the root` };
  if (answer !== undefined) {
    const bound = leafOfAnswer(answer, receipt);
    if (!bound.ok) return bound;
    if (Buffer.compare(bound.value, leaf) !== 0) return { ok: false, reason: 'the receipt is not for this answer: its entry does not hold the answer\'s decision' };
  }
  return cp;
}

/**
 * The leaf hash of the entry that recorded an answer: the answer's decision is its JSON up to the
 * receipt, the last member, which the service adds after recording.
 */
export function leafOfAnswer(answer: string, receipt: Receipt): Verdict<Buffer> {
  if (!receipt.entry || typeof receipt.entry.before !== 'string' || typeof receipt.entry.after !== 'string') return { ok: false, reason: 'the receipt holds no entry to tie it to an answer' };
  const at = answer.lastIndexOf(',"receipt":');
  if (at === -1) return { ok: false, reason: 'the answer holds no receipt' };
  const decision = `${answer.slice(0, at)}}`;
  return { ok: true, value: hashLeaf(Buffer.from(receipt.entry.before + decision + receipt.entry.after, 'utf8')) };
}
