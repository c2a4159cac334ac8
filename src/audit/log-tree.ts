// The log's Merkle tree and its signed checkpoints: what turns the hash chain, which only shows
// that a log agrees with itself, into one that agrees with what partners and witnesses were shown.
//
// Each group commit adds its entries' leaves, and its checkpoint (C2SP tlog-checkpoint, signed as a
// C2SP signed note) is signed on the thread pool while the entries are written; every answer in
// the commit then carries a receipt: its inclusion proof to that checkpoint.
import { hash } from 'node:crypto';
import { TreeStore } from './tree-store.js';
import { inclusionRanges, subtreeHash } from './merkle.js';
import type { NoteSigner } from './note.js';

/** A signed checkpoint of the tree. */
export interface Signed {
  readonly size: number;
  readonly rootHash: string;
  /** the signed note */
  readonly note: string;
}

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

export class LogTree {
  private published: Signed | undefined;

  constructor(
    readonly store: TreeStore,
    private readonly signer: NoteSigner | undefined,
  ) {}

  get size(): number {
    return this.store.count;
  }

  get origin(): string | undefined {
    return this.signer?.name;
  }

  /** the latest checkpoint that was given out with an answer, or signed at open */
  latest(): Signed | undefined {
    return this.published;
  }

  /** Adds a group commit's leaves and starts signing the checkpoint that covers them. */
  grow(leaves: readonly Buffer[]): Promise<Signed> | undefined {
    this.store.append(leaves);
    return this.sign();
  }

  /** Signs a checkpoint of the tree as it is now. */
  sign(): Promise<Signed> | undefined {
    if (!this.signer) return undefined;
    const size = this.store.count;
    const rootHash = this.store.root().toString('base64');
    return this.signer.signNote(checkpointText(this.signer.name, size, rootHash)).then((note) => ({ size, rootHash, note }));
  }

  /** Once the entries a checkpoint covers are durable, it may be given out. */
  publish(signed: Signed): void {
    if (!this.published || signed.size >= this.published.size) this.published = signed;
  }

  /** Receipts for entries of one tree size, sharing the work their proofs have in common. */
  receipts(signed: Signed): (seq: number, leaf: Buffer, entry?: EntryParts) => string {
    const edge = new Map<number, Buffer>();
    const encoded = new Map<string, string>();
    const head = `,"treeSize":${signed.size},"rootHash":"${signed.rootHash}","inclusionProof":[`;
    const checkpoint = JSON.stringify(signed.note);
    return (seq, leaf, entry) => {
      const proof = inclusionRanges(seq - 1, signed.size).map(([lo, hi]) => {
        const key = `${lo}:${hi}`;
        let text = encoded.get(key);
        if (text === undefined) encoded.set(key, (text = subtreeHash(this.store.node, lo, hi, edge).toString('base64')));
        return text;
      });
      const parts = entry ? `,"entry":{"before":${JSON.stringify(entry.before)},"after":${JSON.stringify(entry.after)}}` : '';
      return `{"seq":${seq},"leafHash":"${leaf.toString('base64')}"${head}${proof.length > 0 ? `"${proof.join('","')}"` : ''}],"checkpoint":${checkpoint}${parts}}`;
    };
  }
}
