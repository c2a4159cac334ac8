// `npm run bench:log`: the cost of an append when the log holds 1,000 entries and when it holds
// 1,000,000, in the same run. Each measured append is alone (one write, one fdatasync), so the
// figure is the full durable cost; the fill uses group commit to get there quickly. The two logs
// are appended to by turns, so that both meet the same spells of a shared disk: measured one after
// the other, the ratio of medians swung from 0.89 to 1.22 between runs of the same code.
// Each measured append is what a decision costs the log: its Merkle tree grows and it waits for a
// signed checkpoint that covers it, and gets its receipt. Last, the time a partner's verifier takes
// to check a receipt of a log of 10^8 entries (a proof of 27 hashes and the checkpoint's signature).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { SegmentLog } from '../src/audit/segment-log.js';
import type { EntryDraft } from '../src/audit/types.js';
import { generateSignerKey, parseSignerKey } from '../src/audit/note.js';
import { hashChildren, inclusionProof, subtreeHash } from '../src/audit/merkle.js';
import { checkpointText } from '../src/audit/log-tree.js';
import { parseVerifierKey, verifyReceipt, type Receipt } from '../src/verifier/receipt.js';

const TARGET = Number(process.env.BENCH_LOG_ENTRIES ?? 1_000_000);
const SAMPLES = 400;

const draft = (log: SegmentLog, i: number): EntryDraft => {
  const now = Date.now();
  return {
    kind: 'decision',
    id: log.newId(now),
    at: new Date(now).toISOString(),
    caller: { keyId: 'bench', role: 'partner', partner: 'belastingdienst' },
    request: { provider: 'belastingdienst', recipient: 'fiod', dataCategories: ['fiscal.income'], purpose: 'nsoc.tbml', legalBasis: 'awr-67-43c', subjectCount: i % 100 },
    decision: {
      decisionId: 'x',
      decision: 'permit',
      categories: [{ category: 'fiscal.income', decision: 'permit', rules: ['art-4-1-fiscal-to-fiod'] }],
      reasons: [],
      obligations: [{ type: 'retention', days: 365 }],
      nearMisses: [],
      policyVersion: 'sha256:0595dfebed64c894881f7a51b7fffab5badb9569983ebfd97eb75b8654ea6f9f',
      evaluatedAt: new Date(now).toISOString(),
    },
    policyVersion: 'sha256:0595dfebed64c894881f7a51b7fffab5badb9569983ebfd97eb75b8654ea6f9f',
  };
};

async function fill(log: SegmentLog, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 5000) {
    await Promise.all(Array.from({ length: Math.min(5000, to - i) }, (_, j) => log.append(draft(log, i + j))));
  }
}

type Figures = { p50: number; p99: number; mean: number };

const figures = (samples: number[]): Figures => {
  const n = samples.length;
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(n / 2)] ?? NaN, p99: samples[Math.floor(n * 0.99)] ?? NaN, mean: samples.reduce((a, b) => a + b, 0) / n };
};

/** `n` single appends to each log, by turns. */
async function measure(logs: readonly SegmentLog[], n: number): Promise<Figures[]> {
  const samples = logs.map((): number[] => []);
  for (let i = 0; i < n; i++) {
    for (const [k, log] of logs.entries()) {
      const t = process.hrtime.bigint();
      await log.appendProven(draft(log, i));
      samples[k]?.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  }
  return samples.map(figures);
}

/** µs to verify one receipt of entry 73,456,789 in a log of 10^8 entries, as a partner would. */
async function offlineVerify(): Promise<number> {
  const key = parseSignerKey(generateSignerKey('covenant.bench/log'));
  if (!key.ok) throw new Error(key.reason);
  const vkey = parseVerifierKey(key.signer.verifierKey);
  if (!vkey.ok) throw new Error(vkey.reason);
  // A tree of 10^8 leaves stands in by its complete subtrees' hashes, made up but consistent: a
  // proof and its root only ever touch O(log n) of them.
  const [size, seq] = [100_000_000, 73_456_789];
  // The subtrees on the entry's path are made of their children; the rest are arbitrary hashes.
  const node = (level: number, index: number): Buffer =>
    level > 0 && Math.floor((seq - 1) / 2 ** level) === index
      ? hashChildren(node(level - 1, 2 * index), node(level - 1, 2 * index + 1))
      : createHash('sha256').update(`${level}/${index}`).digest();
  const rootHash = subtreeHash(node, 0, size).toString('base64');
  const receipt: Receipt = {
    seq,
    leafHash: node(0, seq - 1).toString('base64'),
    treeSize: size,
    rootHash,
    inclusionProof: inclusionProof(node, seq - 1, size).map((h) => h.toString('base64')),
    checkpoint: await key.signer.signNote(checkpointText('covenant.bench/log', size, rootHash)),
  };
  const n = 2000;
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (!verifyReceipt(receipt, vkey.value).ok) throw new Error('the receipt does not verify');
  return Number(process.hrtime.bigint() - t) / 1000 / n;
}

const dir = mkdtempSync(join(tmpdir(), 'covenant-logbench-'));
try {
  const key = parseSignerKey(generateSignerKey('covenant.bench/log'));
  if (!key.ok) throw new Error(key.reason);
  const signer = key.signer;
  const smallLog = await SegmentLog.open(join(dir, 'small'), { signer });
  await fill(smallLog, 0, 1_000);
  const largeLog = await SegmentLog.open(join(dir, 'large'), { signer });
  const started = Date.now();
  await fill(largeLog, 0, TARGET);
  const fillSeconds = (Date.now() - started) / 1000;
  const rssBefore = process.memoryUsage().rss;
  const [small, large] = (await measure([smallLog, largeLog], SAMPLES)) as [Figures, Figures];
  const rss = process.memoryUsage().rss;
  await smallLog.close();
  await largeLog.close();
  const ratio = large.p50 / small.p50;
  console.log(`covenant decision-log benchmark (node ${process.version}; ${SAMPLES} single appends to each log, by turns, fsync'd, each with its tree, checkpoint signature and receipt)\n`);
  console.log('| entries in the log | append p50 µs | p99 µs | mean µs |');
  console.log('|---:|---:|---:|---:|');
  console.log(`| 1,000 | ${small.p50.toFixed(0)} | ${small.p99.toFixed(0)} | ${small.mean.toFixed(0)} |`);
  console.log(`| ${TARGET.toLocaleString('en-US')} | ${large.p50.toFixed(0)} | ${large.p99.toFixed(0)} | ${large.mean.toFixed(0)} |`);
  console.log(`\nratio of medians (large / small): ${ratio.toFixed(2)} (target ≤ 1.2: ${ratio <= 1.2 ? 'met' : 'MISSED'}); ` +
    `fill at ${Math.round(TARGET / fillSeconds)} entries/s with group commit; RSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rss / 2 ** 20).toFixed(0)} MiB`);
  const verifyUs = await offlineVerify();
  console.log(`verifying a receipt offline (src/verifier/receipt.ts) of a log of 10^8 entries: ${verifyUs.toFixed(0)} µs (target < 1 ms: ${verifyUs < 1000 ? 'met' : 'MISSED'})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
