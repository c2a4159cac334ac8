// `npm run bench`: in-process decisions per second on generated covenants of 10 to 10,000 rules,
// beside a naive loop over every rule, in the same run. Figures are reported as ratios against
// the 10-rule covenant measured in this run, since the machines are shared and noisy.
import { checkRequest, evaluate, everyRule, type EvaluateOptions } from '../src/engine/index.js';
import type { Covenant } from '../src/domain/covenant.js';
import type { CheckedRequest } from '../src/domain/types.js';
import { compileGenerated, generate } from './generate.js';
import { parseText } from '../src/loader/parse.js';

const SIZES = [10, 100, 1_000, 10_000];
const BUDGET_MS = Number(process.env.BENCH_MS ?? 1500);
const NOW = Date.parse('2025-06-01T12:00:00Z');

interface Measure {
  perSecond: number;
  p50: number;
  p99: number;
  count: number;
}

function measure(covenant: Covenant, requests: CheckedRequest[], options: EvaluateOptions, budgetMs: number): Measure {
  for (let i = 0; i < Math.min(2000, requests.length * 2); i++) evaluate(covenant, requests[i % requests.length] as CheckedRequest, NOW, options);
  const samples: number[] = [];
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(budgetMs) * 1_000_000n;
  let i = 0;
  for (;;) {
    const t0 = process.hrtime.bigint();
    evaluate(covenant, requests[i++ % requests.length] as CheckedRequest, NOW, options);
    const t1 = process.hrtime.bigint();
    samples.push(Number(t1 - t0) / 1000);
    if (t1 > deadline) break;
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  samples.sort((a, b) => a - b);
  const q = (p: number): number => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? NaN;
  return { perSecond: samples.length / elapsed, p50: q(0.5), p99: q(0.99), count: samples.length };
}

const rows: { rules: number; indexed: Measure; naive: Measure; permitShare: number; compileMs: number }[] = [];
for (const size of SIZES) {
  const g = generate(size);
  // Loading (parsing with positions, compiling, the warnings' analysis) is what a reload costs the
  // service's thread: it must grow with the rules, not with their square.
  const compileStarted = performance.now();
  const covenant = compileGenerated(g);
  const compileMs = performance.now() - compileStarted;
  const requests = g.requests.map((r) => {
    const c = checkRequest(covenant, r);
    if (!c.ok) throw new Error(`generated request invalid: ${JSON.stringify(c.error)}`);
    return c.value;
  });
  const permits = requests.filter((r) => evaluate(covenant, r, NOW).decision === 'permit').length;
  const indexed = measure(covenant, requests, process.env.NO_EXPLAIN ? { explain: false } : {}, BUDGET_MS);
  const naive = measure(covenant, requests, { candidates: everyRule }, Math.min(BUDGET_MS, 1000));
  rows.push({ rules: size, indexed, naive, permitShare: permits / requests.length, compileMs });
}

const base = rows[0]?.indexed.perSecond ?? 1;
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`covenant engine benchmark (node ${process.version}, ${BUDGET_MS} ms per size, explanations on)\n`);
console.log('| rules | decisions/s | vs 10 rules | p50 µs | p99 µs | naive loop/s | indexed vs naive | permits | load ms |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${fmt(r.rules)} | ${fmt(r.indexed.perSecond)} | ${fmt(r.indexed.perSecond / base, 2)} | ${fmt(r.indexed.p50, 1)} | ${fmt(r.indexed.p99, 1)} | ${fmt(r.naive.perSecond)} | ${fmt(r.indexed.perSecond / r.naive.perSecond, 1)}× | ${fmt(r.permitShare * 100)}% | ${fmt(r.compileMs)} |`,
  );
}
const at = (n: number): number => (rows.find((r) => r.rules === n)?.indexed.perSecond ?? 0) / base;
const p50At1000 = rows.find((r) => r.rules === 1000)?.indexed.p50 ?? Infinity;
console.log(`\ntargets: 1,000 rules ≥ 0.5 of 10 rules: ${fmt(at(1000), 2)} ${at(1000) >= 0.5 ? 'met' : 'MISSED'}; ` +
  `10,000 rules ≥ 0.25: ${fmt(at(10000), 2)} ${at(10000) >= 0.25 ? 'met' : 'MISSED'}; ` +
  `median at 1,000 rules ≤ 10 µs: ${fmt(p50At1000, 1)} µs ${p50At1000 <= 10 ? 'met' : 'MISSED'}`);
const loadMs = (n: number): number => rows.find((r) => r.rules === n)?.compileMs ?? NaN;
console.log(`loading 10,000 rules took ${fmt(loadMs(10000) / loadMs(1000), 1)} times as long as 1,000 (10 would be linear)`);

// Parsing a file of many keys: the YAML parser's own duplicate-key check compared each key with
// every one before it (50,000 keys took 31 s); ours keeps a set per map. Linear is 10.
const parseMs = (keys: number): number => {
  const text = `x:\n${Array.from({ length: keys }, (_, i) => `  k${i}: 1`).join('\n')}\n`;
  const started = performance.now();
  parseText('keys.yaml', text);
  return performance.now() - started;
};
parseMs(5_000); // warm-up
const [fewKeys, manyKeys] = [parseMs(5_000), parseMs(50_000)];
console.log(`parsing 50,000 keys took ${fmt(manyKeys / fewKeys, 1)} times as long as 5,000 (${fmt(fewKeys)} → ${fmt(manyKeys)} ms; 10 would be linear)`);
