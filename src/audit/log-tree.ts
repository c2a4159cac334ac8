// The log's Merkle tree and its signed checkpoints: what turns the hash chain, which only shows
// that a log agrees with itself, into one that agrees with what partners and witnesses were shown.
//
// Each group commit adds its entries' leaves before they are written. Once they are durable, their
// answers wait for a checkpoint (C2SP tlog-checkpoint, signed as a C2SP signed note) that covers
// them, and each then carries a receipt: its inclusion proof to that checkpoint. One signature is
// made at a time, on the thread pool, covering every entry durable when it starts: under load one
// signature serves several group commits, and the log goes on writing meanwhile.
import { hash } from 'node:crypto';
import { TreeStore } from './tree-store.js';
import { isPowerOfTwo, log2, splitPoint, storedIndex, subtreeHash, type NodeSource } from './merkle.js';
import type { NoteSigner } from './note.js';
import type { SignedCheckpoint } from './types.js';

export type Signed = SignedCheckpoint;

/** The stored entry around an answer's decision: before + decision JSON + after. */
export interface EntryParts {
  readonly before: string;
  readonly after: string;
}

/** The leaf hash of the line in `buf` from `start` to `end` (without its newline). Sets buf[start - 1] for the moment. */
export function leafIn(buf: Buffer, start: number, end: number): Buffer {
  // RFC 9162: SHA-256(0x00 || entry). The byte before a line is the newline of the one before it (or
  // a byte kept free for this): it stands in for the prefix, so the line is hashed in one call.
  const before = buf[start - 1] as number;
  buf[start - 1] = 0;
  const leaf = hash('sha256', buf.subarray(start - 1, end), 'buffer');
  buf[start - 1] = before;
  return leaf;
}

export const leafOfLine = (line: string): Buffer => hash('sha256', Buffer.concat([Buffer.of(0), Buffer.from(line, 'utf8')]), 'buffer');

export const checkpointText = (origin: string, size: number, rootHash: string): string => `${origin}\n${size}\n${rootHash}\n`;

type Waiter = { size: number; resolve: (s: Signed) => void; reject: (e: Error) => void };

/** base64 of complete subtrees, shared by the receipts of many group commits (their proofs overlap) */
const ENCODED_MAX = 8192;

export class LogTree {
  private published: Signed | undefined;
  /** signed, but not every entry it covers is durable yet: given out once they are */
  private held: Signed | undefined;
  private durable = 0;
  /** the largest size that an answer waits for, or will: signing goes on until it is covered */
  private wanted = 0;
  private signing = false;
  private waiting: Waiter[] = [];
  private failure: Error | undefined;
  /** the log failed a write: the tree holds leaves the log does not, so only durable ones are signed */
  private broken = false;
  private readonly encoded = new Map<number, string>();

  constructor(
    readonly store: TreeStore,
    private readonly signer: NoteSigner | undefined,
  ) {
    this.durable = store.count;
  }

  get origin(): string | undefined {
    return this.signer?.name;
  }

  /** the latest checkpoint that was given out, or signed at open */
  latest(): Signed | undefined {
    return this.published;
  }

  /**
   * Adds a group commit's leaves before it is written. When its answers want receipts, the
   * checkpoint that covers them is signed now, while the entries are written: an answer then waits
   * for the slower of the two, not for both one after the other.
   */
  grow(leaves: readonly Buffer[], receipts: boolean): void {
    this.store.append(leaves);
    if (!receipts) return;
    this.wanted = Math.max(this.wanted, this.store.count);
    this.kick();
  }

  /** Entries up to `size` are durable: a checkpoint that covers no more may be given out. */
  markDurable(size: number): void {
    this.durable = Math.max(this.durable, size);
    this.release();
  }

  /** A signed checkpoint that covers the first `size` (durable) entries, once there is one. */
  covering(size: number): Promise<Signed> {
    const p = this.published;
    if (p && p.size >= size) return Promise.resolve(p);
    if (!this.signer) return Promise.reject(new Error('the log has no key to sign checkpoints with'));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ size, resolve, reject });
      this.wanted = Math.max(this.wanted, size);
      this.kick();
    });
  }

  /**
   * The log failed to write entries that the tree already holds: a checkpoint over them must never
   * be given out. Answers of entries that are durable still get one, over those alone.
   */
  writeFailed(): void {
    this.broken = true;
    if (this.held && this.held.size > this.durable) this.held = undefined;
    this.kick();
  }

  /** The log is writable again with `size` entries: the tree forgets the leaves it failed to write. */
  rollback(size: number): void {
    this.store.rollback(size);
    this.broken = false;
    this.failure = undefined;
    if (this.held && this.held.size > size) this.held = undefined;
    this.wanted = Math.min(this.wanted, size);
    this.kick();
  }

  /** Whether any answer still waits for a checkpoint. */
  idle(): boolean {
    return !this.signing && this.waiting.length === 0;
  }

  /** Gives out the held checkpoint once what it covers is durable, to every answer it covers. */
  private release(): void {
    const h = this.held;
    if (!h || h.size > this.durable) return;
    this.held = undefined;
    if (!this.published || h.size >= this.published.size) this.published = h;
    const ready = this.waiting.filter((w) => w.size <= h.size);
    this.waiting = this.waiting.filter((w) => w.size > h.size);
    for (const w of ready) w.resolve(h);
    this.kick();
  }

  // INVARIANT: one signature at a time, over every entry appended when it starts; it is given out
  // only once they are all durable (release). A signature that failed fails every waiting answer.
  private kick(): void {
    if (this.signing || this.held || !this.signer) return;
    const covered = this.published?.size ?? -1;
    if (this.wanted <= covered && this.waiting.length === 0) return;
    const signer = this.signer;
    const size = this.broken ? this.durable : this.store.count;
    if (size <= covered) return;
    const rootHash = (this.broken ? this.store.rootAt(size) : this.store.root()).toString('base64');
    this.signing = true;
    signer.signNote(checkpointText(signer.name, size, rootHash)).then(
      (note) => {
        this.signing = false;
        // signed over entries whose write then failed: never given out
        if (this.broken && size > this.durable) return this.kick();
        this.held = { size, rootHash, note };
        this.release();
      },
      (e: Error) => {
        this.signing = false;
        this.failure = e;
        const failed = this.waiting;
        this.waiting = [];
        for (const w of failed) w.reject(e);
      },
    );
  }

  /** Signs a checkpoint of the durable entries now (at open: the checkpoint route has one at once). */
  async signNow(): Promise<void> {
    if (!this.signer) return;
    if (this.durable > 0) {
      await this.covering(this.durable);
      return;
    }
    const rootHash = this.store.rootAt(0).toString('base64');
    this.published = { size: 0, rootHash, note: await this.signer.signNote(checkpointText(this.signer.name, 0, rootHash)) };
  }

  /** Receipts for entries of one tree size, as JSON text; `entry` ties one to the answer it came with. */
  receipts(signed: Signed): (seq: number, leaf: Buffer, entry?: EntryParts) => string {
    return receiptMaker(this.store.node, signed, this.encoded);
  }
}

/**
 * Receipts for entries of one tree size, as JSON text, from the tree's complete subtrees (`node`).
 * `encoded` keeps the base64 of complete subtrees across sizes, for a log whose group commits
 * share most of their proofs; it starts over once it holds ENCODED_MAX.
 */
export function receiptMaker(node: NodeSource, signed: Signed, encoded: Map<number, string> = new Map()): (seq: number, leaf: Buffer, entry?: EntryParts) => string {
  if (encoded.size > ENCODED_MAX) encoded.clear();
  const size = signed.size;
  const edge = new Map<number, Buffer>();
  // For each node of this tree that a proof passed through: the proof's part above it, as JSON
  // text. Entries of one group commit share most of their paths, so each adds only its lowest few.
  const above = new Map<number, string>();
  const head = `,"treeSize":${size},"rootHash":"${signed.rootHash}","inclusionProof":[`;
  const tail = `],"checkpoint":${JSON.stringify(signed.note)}`;
  const text = (lo: number, hi: number, key: number): string => {
    let t = key >= 0 ? encoded.get(key) : undefined;
    if (t === undefined) {
      t = `"${subtreeHash(node, lo, hi, edge).toString('base64')}"`;
      if (key >= 0) encoded.set(key, t);
    }
    return t;
  };
  return (seq, leaf, entry) => {
    // RFC 9162 PATH, walked from the root down (see inclusionRanges): each step's sibling is one
    // element of the proof, which lists them from the leaf up.
    const index = seq - 1;
    let lo = 0;
    let hi = size;
    let proof = '';
    while (hi - lo > 1) {
      const mid = lo + splitPoint(hi - lo);
      const left = index < mid;
      // the child on the leaf's path, and its sibling
      const [clo, chi] = left ? [lo, mid] : [mid, hi];
      const id = nodeKey(clo, chi);
      const known = above.get(id);
      if (known !== undefined) proof = known;
      else {
        const sibling = left ? text(mid, hi, nodeKey(mid, hi)) : text(lo, mid, nodeKey(lo, mid));
        proof = proof.length === 0 ? sibling : `${sibling},${proof}`;
        above.set(id, proof);
      }
      lo = clo;
      hi = chi;
    }
    const parts = entry ? `,"entry":{"before":${JSON.stringify(entry.before)},"after":${JSON.stringify(entry.after)}}` : '';
    return `{"seq":${seq},"leafHash":"${leaf.toString('base64')}"${head}${proof}${tail}${parts}}`;
  };
}

/**
 * A number for a node of one tree size: a complete subtree by where the store keeps it
 * (the same in every later tree, so its text is shared across sizes), a node on the right edge
 * (which only this size has) by its first leaf, as a negative number.
 */
function nodeKey(lo: number, hi: number): number {
  const n = hi - lo;
  return isPowerOfTwo(n) ? storedIndex(log2(n), lo / n) : -1 - lo;
}
