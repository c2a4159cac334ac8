// RFC 9162 §2.1 Merkle trees over the log's entries: roots and proofs, computed from the hashes
// of complete subtrees (wherever they are kept), and the compact range that lets a tree grow
// in O(log n) memory. Verification lives in src/verifier/receipt.ts, for partners to copy.
import { hash } from 'node:crypto';

// RFC 9162's node hash, SHA-256(0x01 || left || right), in one call over a buffer kept for it: the
// verifier's version (src/verifier/receipt.ts, createHash with three updates, for partners on any
// Node) took 2.0 µs a node, this 0.7 µs, and a growing tree hashes about one node a leaf. The
// property tests hold the two equal (test/merkle.test.ts).
const pair = Buffer.alloc(65, 1);
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  pair.set(left, 1);
  pair.set(right, 33);
  return hash('sha256', pair, 'buffer');
}

/**
 * The hash of the complete subtree at `level` (2^level leaves) with index `index` (its first leaf
 * is index * 2^level). Every subtree asked for is complete in the tree it is asked about.
 */
export type NodeSource = (level: number, index: number) => Buffer;

/** The largest power of two below n (n > 1). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export const log2 = (n: number): number => Math.round(Math.log2(n));
// Not n & (n - 1): bitwise operators cut numbers to 32 bits, and trees may grow past that.
export const isPowerOfTwo = (n: number): boolean => n > 0 && 2 ** log2(n) === n;

/**
 * MTH(D[lo:hi]) from stored complete subtrees; a range that is not one is split as RFC 9162 splits
 * it. `edge` memoises the ranges that end at `hi` (the right edge, the only ones that are not
 * complete) for a caller that asks about the same tree many times.
 */
export function subtreeHash(node: NodeSource, lo: number, hi: number, edge?: Map<number, Buffer>): Buffer {
  const size = hi - lo;
  if (isPowerOfTwo(size)) return node(log2(size), lo / size);
  const known = edge?.get(lo);
  if (known) return known;
  const k = splitPoint(size);
  const hash = hashChildren(subtreeHash(node, lo, lo + k), subtreeHash(node, lo + k, hi, edge));
  edge?.set(lo, hash);
  return hash;
}

/** The leaf ranges [lo, hi) whose hashes make RFC 9162's PATH(index, D[0:size]), from the leaf up. */
export function inclusionRanges(index: number, size: number): [number, number][] {
  const ranges: [number, number][] = [];
  // Iteratively, top-down, then reversed: the recursion of §2.1.3.1 appends on the way back up.
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      ranges.push([lo + k, hi]);
      hi = lo + k;
    } else {
      ranges.push([lo, lo + k]);
      lo += k;
    }
  }
  return ranges.reverse();
}

/** RFC 9162 PATH(index, D[0:size]): the inclusion proof, from the leaf up. */
export function inclusionProof(node: NodeSource, index: number, size: number): Buffer[] {
  return inclusionRanges(index, size).map(([lo, hi]) => subtreeHash(node, lo, hi));
}

/** RFC 9162 PROOF(m, D[0:n]): the consistency proof between sizes m and n (0 < m <= n). */
export function consistencyProof(node: NodeSource, m: number, n: number): Buffer[] {
  const proof: Buffer[] = [];
  let lo = 0;
  let hi = n;
  let rel = m;
  let complete = true;
  while (rel !== hi - lo) {
    const k = splitPoint(hi - lo);
    if (rel <= k) {
      proof.push(subtreeHash(node, lo + k, hi));
      hi = lo + k;
    } else {
      proof.push(subtreeHash(node, lo, lo + k));
      lo += k;
      rel -= k;
      complete = false;
    }
  }
  if (!complete) proof.push(subtreeHash(node, lo, hi));
  return proof.reverse();
}

/**
 * The complete subtrees that make up a prefix of the leaves, largest first: enough to add leaves
 * and take the root at every size, in memory that grows with log2 of the size.
 */
export class CompactRange {
  private constructor(
    private size: number,
    private readonly hashes: Buffer[],
  ) {}

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /** A range restored from its size and hashes (as `subtrees()` gave them). */
  static of(size: number, hashes: readonly Buffer[]): CompactRange {
    let bits = 0;
    for (let n = size; n > 0; n = Math.floor(n / 2)) bits += n % 2;
    if (bits !== hashes.length) throw new Error(`a compact range of ${size} leaves has ${bits} hashes, not ${hashes.length}`);
    return new CompactRange(size, [...hashes]);
  }

  get count(): number {
    return this.size;
  }

  /** The hashes of its complete subtrees, largest first. */
  subtrees(): readonly Buffer[] {
    return this.hashes;
  }

  /** Adds a leaf; `onNode` is told of each complete subtree it completes (level, index, hash). */
  push(leaf: Buffer, onNode?: (level: number, index: number, hash: Buffer) => void): void {
    let hash = leaf;
    let index = this.size;
    let level = 0;
    onNode?.(0, index, hash);
    // INVARIANT: the last hash is the subtree whose leaves end where the new leaf begins; it merges
    // with it while the new subtree's index is odd (a right child).
    while (index % 2 === 1) {
      hash = hashChildren(this.hashes.pop() as Buffer, hash);
      index = Math.floor(index / 2);
      level++;
      onNode?.(level, index, hash);
    }
    this.hashes.push(hash);
    this.size++;
  }

  /** MTH of the leaves so far; the empty tree's root is SHA-256 of nothing. */
  root(): Buffer {
    let r = this.hashes[this.hashes.length - 1];
    if (r === undefined) return EMPTY_ROOT;
    for (let i = this.hashes.length - 2; i >= 0; i--) r = hashChildren(this.hashes[i] as Buffer, r);
    return r;
  }
}

export const EMPTY_ROOT = Buffer.from('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex');

/**
 * Where the hash of a complete subtree sits in a store that appends, for each new leaf, its hash
 * and then those of the subtrees it completes (the order of Go's golang.org/x/mod/sumdb/tlog).
 */
export function storedIndex(level: number, index: number): number {
  // Level L's node n is written right after level L+1's... walk down to the level-0 leaf that completes it.
  let n = index;
  for (let l = level; l > 0; l--) n = 2 * n + 1;
  let i = 0;
  for (; n > 0; n = Math.floor(n / 2)) i += n;
  return i + level;
}

/** How many hashes a store holds for `leaves` leaves. */
export function storedCount(leaves: number): number {
  if (leaves === 0) return 0;
  let count = storedIndex(0, leaves - 1) + 1;
  for (let i = leaves - 1; i % 2 === 1; i = Math.floor(i / 2)) count++;
  return count;
}
