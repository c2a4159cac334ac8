// `npm run bench:http`: POST /v1/decisions with durable recording, beside a bare Hono route that
// validates the same body and returns a constant, both measured here in one run with autocannon
// (50 connections), and beside the same service with its receipts turned off (no Merkle tree, no
// signed checkpoints: the log as it was before it became verifiable), to measure what receipts
// cost. Then the decision route's p99 latency at half its saturating rate.
//
// autocannon keeps a rate per connection and second: each connection sends at full speed until
// it has used its second's share, then waits (mcollina/autocannon#174), so "half rate" is bursts
// at saturation. Beside its p99 the bench prints what the service itself timed in that run (from
// its /metrics): the share of decisions within 10 ms and how many log writes took longer, so that
// a miss can be told apart from a stall of the disk, which every answer waits for.
//
// The two routes are loaded by turns, in slices of a fifth of the time each, so that both meet
// the same spells of a shared machine: loaded once each, one after the other, the same build gave
// ratios from 0.33 to 0.52 in consecutive runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { child, started } from './processes.js';
import { KeyStore } from '../src/keys/store.js';
import { dataPaths } from '../src/server.js';

// `npm run bench:http -- --database URL`: the replicas' benchmark instead (bench/replicas.bench.ts).
const databaseAt = process.argv.indexOf('--database');
if (databaseAt !== -1) {
  const url = process.argv[databaseAt + 1];
  if (!url) throw new Error('--database needs a postgres:// URL');
  await (await import('./replicas.bench.js')).replicasBench(url);
  process.exit(0);
}

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TURNS = 5;
const body = JSON.stringify({ provider: 'belastingdienst', recipient: 'fiod', dataCategories: ['fiscal.income'], purpose: 'nsoc.tbml', legalBasis: 'awr-67-43c', subjectCount: 12 });

/**
 * A run's result, and the p99 of the latencies as they were. With a rate, autocannon corrects for
 * coordinated omission with an expected interval of 1 ms (Math.ceil(1 / rate)): an answer that
 * took L ms is also counted at L-1, L-2, … 1 ms. Its p99 is the target's; the plain one is shown
 * beside it, to tell a real tail from the correction's.
 */
async function load(url: string, headers: Record<string, string>, overallRate?: number, seconds = SECONDS): Promise<autocannon.Result & { plainP99: number; latencies: number[] }> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url, method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, connections: 50, duration: seconds, ...(overallRate && { overallRate }) },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status < 300) latencies.push(ms);
    });
  });
  latencies.sort((a, b) => a - b);
  return { ...result, plainP99: latencies[Math.floor(0.99 * latencies.length)] ?? Number.NaN, latencies };
}

/** A histogram of the service's /metrics: cumulative counts by upper bound, summed over labels. */
async function histogram(url: string, name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\d+)$`, 'gm'))) {
    const le = m[1] as string;
    counts.set(le, (counts.get(le) ?? 0) + Number(m[2]));
  }
  return counts;
}

/** Of what a histogram counted between two readings: how many in all, and how many over `le`. */
function over(before: Map<string, number>, after: Map<string, number>, le: string): { all: number; over: number } {
  const delta = (k: string): number => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  return { all: delta('+Inf'), over: delta('+Inf') - delta(le) };
}

/** Requests per second over all of a route's turns, and latency percentiles over all its answers. */
interface Turns {
  rps: number;
  p50: number;
  p99: number;
  bad: number;
  /** requests per second in each turn */
  each: number[];
}

async function turns(routes: readonly { url: string; headers: Record<string, string> }[]): Promise<Turns[]> {
  const results = routes.map(() => ({ requests: 0, seconds: 0, bad: 0, latencies: [] as number[], each: [] as number[] }));
  for (let t = 0; t < TURNS; t++) {
    for (const [i, route] of routes.entries()) {
      const r = await load(route.url, route.headers, undefined, SECONDS / TURNS);
      const into = results[i] as (typeof results)[number];
      into.requests += r.requests.total;
      into.seconds += r.duration;
      into.bad += r.non2xx + r.errors;
      // concat, not push(...): a turn can hold more answers than a call may take arguments.
      into.latencies = into.latencies.concat(r.latencies);
      into.each.push(r.requests.total / r.duration);
    }
  }
  return results.map((r) => {
    const sorted = r.latencies.sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.floor(q * sorted.length)] ?? Number.NaN;
    return { rps: r.requests / r.seconds, p50: at(0.5), p99: at(0.99), bad: r.bad, each: r.each };
  });
}

const dataDir = mkdtempSync(join(tmpdir(), 'covenant-bench-'));
const plainDir = mkdtempSync(join(tmpdir(), 'covenant-bench-'));
const keys = await KeyStore.open(dataPaths(dataDir).keys);
const { key } = await keys.add({ role: 'partner', partner: 'belastingdienst' }, new Date());
const plainKeys = await KeyStore.open(dataPaths(plainDir).keys);
const { key: plainKey } = await plainKeys.add({ role: 'partner', partner: 'belastingdienst' }, new Date());
try {
  const service = await child(['bin/covenant.js', 'serve', '--port', '$PORT', '--data', dataDir]);
  const plain = await child(['bin/covenant.js', 'serve', '--port', '$PORT', '--data', plainDir], { COVENANT_BENCH_WITHOUT_RECEIPTS: '1' });
  const bare = await child(['--import', 'tsx', 'bench/bare-server.ts']);
  await load(`${bare.url}/bare`, {}); // warm-up of all, not reported
  await load(`${service.url}/v1/decisions`, { authorization: `Bearer ${key}` });
  await load(`${plain.url}/v1/decisions`, { authorization: `Bearer ${plainKey}` });
  const [reference, decisions, without] = (await turns([
    { url: `${bare.url}/bare`, headers: {} },
    { url: `${service.url}/v1/decisions`, headers: { authorization: `Bearer ${key}` } },
    { url: `${plain.url}/v1/decisions`, headers: { authorization: `Bearer ${plainKey}` } },
  ])) as [Turns, Turns, Turns];
  const half = Math.max(1, Math.floor(decisions.rps / 2));
  const timed = async (): Promise<Map<string, number>[]> => Promise.all(['covenant_decision_seconds', 'covenant_log_append_seconds'].map((h) => histogram(service.url, h)));
  const [decidedBefore, writtenBefore] = (await timed()) as [Map<string, number>, Map<string, number>];
  const atHalf = await load(`${service.url}/v1/decisions`, { authorization: `Bearer ${key}` }, half);
  const [decidedAfter, writtenAfter] = (await timed()) as [Map<string, number>, Map<string, number>];
  const slowDecisions = over(decidedBefore, decidedAfter, '0.01');
  const slowWrites = over(writtenBefore, writtenAfter, '0.01');
  const bad = decisions.bad + atHalf.non2xx + atHalf.errors;
  const ratio = decisions.rps / reference.rps;
  const ratios = decisions.each.map((d, i) => d / (reference.each[i] ?? Number.NaN));
  const ms = (x: number): string => x.toFixed(1);
  console.log(`covenant HTTP benchmark (autocannon, 50 connections, ${SECONDS} s each in ${TURNS} turns by route, node ${process.version})\n`);
  console.log('| route | requests/s | p50 ms | p99 ms |');
  console.log('|---|---:|---:|---:|');
  console.log(`| bare Hono + ajv, constant answer | ${Math.round(reference.rps)} | ${ms(reference.p50)} | ${ms(reference.p99)} |`);
  console.log(`| POST /v1/decisions, fsync'd log, with receipts | ${Math.round(decisions.rps)} | ${ms(decisions.p50)} | ${ms(decisions.p99)} |`);
  console.log(`| POST /v1/decisions, fsync'd log, receipts off | ${Math.round(without.rps)} | ${ms(without.p50)} | ${ms(without.p99)} |`);
  console.log(`| POST /v1/decisions at ${half}/s (half) | ${Math.round(atHalf.requests.average)} | ${atHalf.latency.p50} | ${atHalf.latency.p99} |`);
  console.log(`\nratio to the bare route: ${ratio.toFixed(2)} (target ≥ 0.4: ${ratio >= 0.4 ? 'met' : 'MISSED'}); ` +
    `p99 at half rate: ${atHalf.latency.p99} ms (target < 10 ms: ${atHalf.latency.p99 < 10 ? 'met' : 'MISSED'}); non-2xx or errors: ${bad}`);
  console.log(`ratio in each turn: ${ratios.map((r) => r.toFixed(2)).join(', ')}`);
  const receiptRatio = decisions.rps / without.rps;
  console.log(`with receipts / without: ${receiptRatio.toFixed(2)} (target ≥ 0.9: ${receiptRatio >= 0.9 ? 'met' : 'MISSED'}); in each turn: ${decisions.each.map((d, i) => (d / (without.each[i] ?? Number.NaN)).toFixed(2)).join(', ')}`);
  console.log(`p99 at half rate without autocannon's correction for coordinated omission: ${atHalf.plainP99.toFixed(1)} ms`);
  const pct = (x: number, of: number): string => `${((100 * x) / of).toFixed(2)} %`;
  console.log(`at half rate, as the service timed it: ${pct(slowDecisions.all - slowDecisions.over, slowDecisions.all)} of ${slowDecisions.all} decisions within 10 ms; ` +
    `log writes (group commits, O_DSYNC) over 10 ms: ${slowWrites.over} of ${slowWrites.all}`);
} finally {
  for (const proc of started) proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(plainDir, { recursive: true, force: true });
}
