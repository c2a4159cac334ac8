// The Merkle tree's laws, against RFC 9162's definitions written out naively: every inclusion and
// consistency proof of a generated tree verifies, and any changed byte makes it fail.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { CompactRange, consistencyProof, inclusionProof, storedCount, storedIndex, type NodeSource } from '../src/audit/merkle.js';
import { TreeStore } from '../src/audit/tree-store.js';
import { hashChildren, hashLeaf, verifyConsistency, verifyInclusion } from '../src/verifier/receipt.js';

/** MTH as RFC 9162 §2.1.1 defines it. */
function mth(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return hashChildren(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

const naiveNodes = (leaves: readonly Buffer[]): NodeSource => (level, index) => mth(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level));

const leavesOf = (n: number, salt = 0): Buffer[] => Array.from({ length: n }, (_, i) => hashLeaf(Buffer.from(`entry ${i} ${salt}`)));

/** one byte of one of the buffers changed */
function flip(proof: readonly Buffer[], at: number, bit: number): Buffer[] {
  const copy = proof.map((b) => Buffer.from(b));
  const target = copy[at % copy.length] as Buffer;
  target[bit % 32] = (target[bit % 32] as number) ^ (1 << (bit % 8));
  return copy;
}

describe('Merkle tree (RFC 9162 §2.1)', () => {
  it('the compact range gives the root at every size', () => {
    const leaves = leavesOf(70);
    const range = CompactRange.empty();
    for (let n = 1; n <= leaves.length; n++) {
      range.push(leaves[n - 1] as Buffer);
      expect(range.root().equals(mth(leaves.slice(0, n)))).toBe(true);
    }
    expect(CompactRange.empty().root().toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('stores each complete subtree once, in the order a growing tree completes them', () => {
    const seen = new Set<number>();
    const range = CompactRange.empty();
    for (let n = 0; n < 200; n++) {
      range.push(hashLeaf(Buffer.of(n)), (level, index) => {
        const i = storedIndex(level, index);
        expect(seen.has(i)).toBe(false);
        expect(i).toBe(seen.size);
        seen.add(i);
      });
      expect(storedCount(n + 1)).toBe(seen.size);
    }
  });

  it('every inclusion proof verifies, and no changed byte does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.nat(), fc.nat(), fc.nat(), (size, at, which, bit) => {
        const leaves = leavesOf(size);
        const index = at % size;
        const root = mth(leaves);
        const proof = inclusionProof(naiveNodes(leaves), index, size);
        expect(verifyInclusion(index, size, leaves[index] as Buffer, proof, root)).toBe(true);
        if (proof.length > 0) expect(verifyInclusion(index, size, leaves[index] as Buffer, flip(proof, which, bit), root)).toBe(false);
        expect(verifyInclusion(index, size, flip([leaves[index] as Buffer], 0, bit)[0] as Buffer, proof, root)).toBe(false);
        expect(verifyInclusion(index, size, leaves[index] as Buffer, proof, flip([root], 0, bit)[0] as Buffer)).toBe(false);
        if (size > 1) expect(verifyInclusion((index + 1) % size, size, leaves[index] as Buffer, proof, root)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('every consistency proof verifies, and no changed byte does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 0, max: 80 }), fc.nat(), fc.nat(), (m, extra, which, bit) => {
        const n = m + extra;
        const leaves = leavesOf(n);
        const [r1, r2] = [mth(leaves.slice(0, m)), mth(leaves)];
        const proof = consistencyProof(naiveNodes(leaves), m, n);
        expect(verifyConsistency(m, n, r1, r2, proof)).toBe(true);
        if (proof.length > 0) expect(verifyConsistency(m, n, r1, r2, flip(proof, which, bit))).toBe(false);
        expect(verifyConsistency(m, n, flip([r1], 0, bit)[0] as Buffer, r2, proof)).toBe(false);
        expect(verifyConsistency(m, n, r1, flip([r2], 0, bit)[0] as Buffer, proof)).toBe(false);
        // a tree that changed a leaf of the first is not consistent with it
        if (extra > 0) {
          const forked = [...leaves];
          forked[which % m] = hashLeaf(Buffer.from('forked'));
          expect(verifyConsistency(m, n, r1, mth(forked), consistencyProof(naiveNodes(forked), m, n))).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the stored tree gives the naive proofs, also reopened at the size last synced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'covenant-tree-'));
    const leaves = leavesOf(300);
    const tree = TreeStore.open(dir, 0);
    for (let i = 0; i < 300; i += 37) tree.append(leaves.slice(i, i + 37));
    expect(tree.root().equals(mth(leaves))).toBe(true);
    for (const [i, n] of [[0, 1], [5, 300], [299, 300], [128, 129], [64, 200]] as const) {
      expect(tree.inclusion(i, n)).toEqual(inclusionProof(naiveNodes(leaves), i, n));
      expect(tree.rootAt(n).equals(mth(leaves.slice(0, n)))).toBe(true);
    }
    expect(tree.consistency(100, 300)).toEqual(consistencyProof(naiveNodes(leaves), 100, 300));
    expect(await tree.sync()).toBe(300);
    await tree.close();
    const again = TreeStore.open(dir, 250);
    expect(again.count).toBe(250);
    expect(again.root().equals(mth(leaves.slice(0, 250)))).toBe(true);
    again.append(leaves.slice(250));
    expect(again.root().equals(mth(leaves))).toBe(true);
    await again.close();
    // a file that holds less than the size asked for starts again from nothing
    const lost = TreeStore.open(mkdtempSync(join(tmpdir(), 'covenant-tree-')), 10);
    expect(lost.count).toBe(0);
    await lost.close();
  });
});
