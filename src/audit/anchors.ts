// The log checked against what others hold: receipts that partners were given and checkpoints
// that witnesses accepted. The hash chain shows only that a log agrees with itself; an operator
// who rewrites an entry and every hash after it passes that check. What was signed and handed out
// cannot be rewritten: the log must still produce each root and leaf given out before.
//
// Every anchor states the hash of a range of leaves: a receipt its leaf, the complete subtrees in
// its proof, and the root of its tree size; a witnessed checkpoint its root. One pass over the log
// recomputes each and compares. The first entry that disagrees lies after every prefix that agrees
// and no later than the end of the first range that disagrees; when those meet, it is named.
import { hashChildren, verifyInclusion, type Receipt, type VerifierKey, openCheckpoint } from '../verifier/receipt.js';
import { CompactRange, inclusionRanges, isPowerOfTwo } from './merkle.js';

/** A stated hash of the leaves [lo, hi): a complete subtree, or (lo = 0) the root of a tree of hi leaves. */
export interface Anchor {
  readonly lo: number;
  readonly hi: number;
  readonly hash: Buffer;
  /** where it comes from, for messages: "receipt of entry 12", "witness checkpoint 40" */
  readonly source: string;
}

export type AnchorResult =
  | { readonly ok: true; readonly checked: number; readonly unverifiable: number }
  | { readonly ok: false; readonly checked: number; readonly firstBad: { readonly seq: number; readonly lastSeq: number; readonly message: string } };

const b64 = (s: string): Buffer => Buffer.from(s, 'base64');

/**
 * The anchors a receipt states, once its signature and proof check out with the pinned key.
 * Returns a reason when the receipt itself is not valid: then it anchors nothing.
 */
export function receiptAnchors(receipt: Receipt, key: VerifierKey, source: string): Anchor[] | string {
  const cp = openCheckpoint(receipt.checkpoint, key);
  if (!cp.ok) return cp.reason;
  if (cp.value.size !== receipt.treeSize || cp.value.rootHash !== receipt.rootHash) return 'the checkpoint is for another tree size or root than the receipt';
  const index = receipt.seq - 1;
  const proof = receipt.inclusionProof.map(b64);
  if (!verifyInclusion(index, receipt.treeSize, b64(receipt.leafHash), proof, b64(receipt.rootHash))) return 'the inclusion proof does not lead to the root';
  const anchors: Anchor[] = [
    { lo: index, hi: index + 1, hash: b64(receipt.leafHash), source: `${source} (its entry)` },
    { lo: 0, hi: receipt.treeSize, hash: b64(receipt.rootHash), source: `${source} (the root of ${receipt.treeSize} entries)` },
  ];
  // Walking up from the leaf: each sibling, and each node on the path, that is a complete subtree.
  let [lo, hi] = [index, index + 1];
  let hash = b64(receipt.leafHash);
  inclusionRanges(index, receipt.treeSize).forEach(([slo, shi], i) => {
    const sibling = proof[i] as Buffer;
    if (isPowerOfTwo(shi - slo)) anchors.push({ lo: slo, hi: shi, hash: sibling, source: `${source} (its proof)` });
    hash = slo < lo ? hashChildren(sibling, hash) : hashChildren(hash, sibling);
    [lo, hi] = [Math.min(lo, slo), Math.max(hi, shi)];
    if (isPowerOfTwo(hi - lo)) anchors.push({ lo, hi, hash, source: `${source} (its proof)` });
  });
  return anchors;
}

/**
 * Checks leaves (in order, from leaf `start`, after a pruned prefix whose compact range is
 * `prefix`) against anchors. Anchors within the pruned prefix cannot be recomputed and are counted
 * as unverifiable, except roots of the prefix itself.
 */
export async function checkAnchors(leaves: AsyncIterable<Buffer>, anchors: readonly Anchor[], prefix?: { size: number; hashes: Buffer[] }): Promise<AnchorResult> {
  const start = prefix?.size ?? 0;
  const complete = new Map<string, Anchor[]>();
  const roots = new Map<number, Anchor[]>();
  let unverifiable = 0;
  const add = <K>(m: Map<K, Anchor[]>, k: K, a: Anchor): void => void m.set(k, [...(m.get(k) ?? []), a]);
  for (const a of anchors) {
    if (a.lo === 0) add(roots, a.hi, a);
    else if (a.lo < start) unverifiable++;
    else add(complete, `${a.lo}:${a.hi}`, a);
  }
  const range = prefix ? CompactRange.of(prefix.size, prefix.hashes) : CompactRange.empty();
  const agreed: [number, number][] = [];
  const failed: { anchor: Anchor }[] = [];
  let checked = 0;
  const judge = (a: Anchor, actual: Buffer): void => {
    checked++;
    if (actual.equals(a.hash)) agreed.push([a.lo, a.hi]);
    else failed.push({ anchor: a });
  };
  for (const a of roots.get(start) ?? []) judge(a, range.root());
  for await (const leaf of leaves) {
    range.push(leaf, (level, index, hash) => {
      const size = 2 ** level;
      for (const a of complete.get(`${index * size}:${(index + 1) * size}`) ?? []) judge(a, hash);
    });
    for (const a of roots.get(range.count) ?? []) judge(a, range.root());
  }
  const end = range.count;
  // Anchors past the log's end: entries were cut off, or the log was never that long.
  for (const a of anchors) {
    if (a.hi > end) failed.push({ anchor: a });
  }
  for (const [size, list] of roots) if (size < start) unverifiable += list.length;
  if (failed.length === 0) return { ok: true, checked, unverifiable };
  // The first changed leaf f: every range that agrees and starts at or before what is known to
  // agree extends it; every range that disagrees holds a changed leaf, so f < its end.
  agreed.sort((a, b) => a[0] - b[0]);
  let known = start;
  for (const [lo, hi] of agreed) if (lo <= known) known = Math.max(known, hi);
  const first = failed.reduce((m, f) => (f.anchor.hi < m.anchor.hi ? f : m));
  const upper = Math.min(first.anchor.hi, end + 1);
  const [seq, lastSeq] = [known + 1, Math.max(known + 1, upper)];
  const where = seq === lastSeq ? `entry ${seq}` : `an entry from ${seq} to ${lastSeq}`;
  const message =
    first.anchor.hi > end
      ? `the log ends at entry ${end}, but ${first.anchor.source} covers entries up to ${first.anchor.hi}: entries were removed from the end`
      : `the log disagrees with ${first.anchor.source}: ${where} differs from what was signed and given out`;
  return { ok: false, checked, firstBad: { seq, lastSeq, message } };
}
