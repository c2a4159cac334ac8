// `npm run bench:log`: the cost of an append when the log holds 1,000 entries and when it holds
// 1,000,000, in the same run. Each measured append is alone (one write, one fdatasync), so the
// figure is the full durable cost; the fill uses group commit to get there quickly. The two logs
// are appended to by turns, so that both meet the same spells of a shared disk: measured one after
// the other, the ratio of medians swung from 0.89 to 1.22 between runs of the same code.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentLog } from '../src/audit/segment-log.js';
import type { EntryDraft } from '../src/audit/types.js';

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
      await log.append(draft(log, i));
      samples[k]?.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  }
  return samples.map(figures);
}

const dir = mkdtempSync(join(tmpdir(), 'covenant-logbench-'));
try {
  const smallLog = await SegmentLog.open(join(dir, 'small'));
  await fill(smallLog, 0, 1_000);
  const largeLog = await SegmentLog.open(join(dir, 'large'));
  const started = Date.now();
  await fill(largeLog, 0, TARGET);
  const fillSeconds = (Date.now() - started) / 1000;
  const rssBefore = process.memoryUsage().rss;
  const [small, large] = (await measure([smallLog, largeLog], SAMPLES)) as [Figures, Figures];
  const rss = process.memoryUsage().rss;
  await smallLog.close();
  await largeLog.close();
  const ratio = large.p50 / small.p50;
  console.log(`covenant decision-log benchmark (node ${process.version}; ${SAMPLES} single appends to each log, by turns, fsync'd)\n`);
  console.log('| entries in the log | append p50 µs | p99 µs | mean µs |');
  console.log('|---:|---:|---:|---:|');
  console.log(`| 1,000 | ${small.p50.toFixed(0)} | ${small.p99.toFixed(0)} | ${small.mean.toFixed(0)} |`);
  console.log(`| ${TARGET.toLocaleString('en-US')} | ${large.p50.toFixed(0)} | ${large.p99.toFixed(0)} | ${large.mean.toFixed(0)} |`);
  console.log(`\nratio of medians (large / small): ${ratio.toFixed(2)} (target ≤ 1.2: ${ratio <= 1.2 ? 'met' : 'MISSED'}); ` +
    `fill at ${Math.round(TARGET / fillSeconds)} entries/s with group commit; RSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rss / 2 ** 20).toFixed(0)} MiB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
