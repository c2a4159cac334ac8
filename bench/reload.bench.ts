// `npm run bench:reload`: decisions' latency while the service reloads a covenant of 10,000 rules,
// beside the same service deciding while nothing reloads, measured in one run. Two services, by
// turns: one that compiles reloads in a process of their own (as it serves), one that compiles them
// on its service thread (as it once did, switched on for this bench only), so that the figure says
// what the thread saves.
//
// Decisions are sent evenly paced (open loop, 200 a second over keep-alive connections) and each
// latency is measured from the instant the request was due, not when it went out: a service that
// stalls is charged for every request that waited behind it. autocannon's `rate` would send
// bursts (mcollina/autocannon#174). The quiet turns are the baseline: the same durable writes on
// the same disk with its stalls, so a ratio near 1 means the reloads cost the decisions nothing.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyStore } from '../src/keys/store.js';
import { dataPaths } from '../src/server.js';
import { generate } from './generate.js';
import { child, started } from './processes.js';

const RULES = Number(process.env.BENCH_RULES ?? 10_000);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const SLICE_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = 3;

const g = generate(RULES, 3);
const { requestedAt: _, ...asked } = g.requests.find((r) => r.provider === 'belastingdienst') ?? (g.requests[0] as Record<string, unknown>);
const body = JSON.stringify(asked);

interface Service {
  readonly label: string;
  readonly url: string;
  readonly partner: string;
  readonly auditor: string;
  readonly rulesDir: string;
  readonly agent: Agent;
}

async function service(label: string, env: Record<string, string>): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), 'covenant-bench-reload-'));
  const policiesDir = join(dir, 'policies');
  const rulesDir = join(dir, 'rules');
  mkdirSync(policiesDir);
  mkdirSync(rulesDir);
  writeFileSync(join(policiesDir, 'bench.json'), JSON.stringify(g.policies, null, 1));
  writeFileSync(join(rulesDir, 'bench.json'), JSON.stringify({ rules: g.rules }, null, 1));
  const keys = await KeyStore.open(dataPaths(join(dir, 'data')).keys);
  const partner = (await keys.add({ role: 'partner', partner: String(asked.provider) }, new Date())).key;
  const auditor = (await keys.add({ role: 'auditor' }, new Date())).key;
  const { url } = await child(['bin/covenant.js', 'serve', '--port', '$PORT', '--data', join(dir, 'data'), '--policies', policiesDir, '--rules', rulesDir], env);
  return { label, url, partner, auditor, rulesDir, agent: new Agent({ keepAlive: true, maxSockets: 64 }) };
}

/** One decision; resolves with its status when the whole answer has arrived. */
function decide(s: Service): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${s.url}/v1/decisions`, { method: 'POST', agent: s.agent, headers: { authorization: `Bearer ${s.partner}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Decisions at RATE a second for `seconds`, each latency from when it was due; `meanwhile` runs at the start. */
async function paced(s: Service, seconds: number, meanwhile?: () => Promise<void>): Promise<{ latencies: number[]; bad: number }> {
  const latencies: number[] = [];
  let bad = 0;
  const total = Math.round(seconds * RATE);
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  const side = meanwhile?.();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      decide(s).then((status) => {
        if (status === 200) latencies.push(performance.now() - due);
        else {
          bad++;
          console.error(`${s.label}: a decision was answered ${status === 0 ? 'with a connection error' : status}`);
        }
      }),
    );
  }
  await Promise.all(inFlight);
  await side;
  return { latencies, bad };
}

const policyVersion = async (s: Service): Promise<string> =>
  ((await (await fetch(`${s.url}/v1/policy`, { headers: { authorization: `Bearer ${s.auditor}` } })).json()) as { policyVersion: string }).policyVersion;

/** Changes one small rule file, which reloads all 10,000 rules, and waits until the new version serves. */
async function reload(s: Service, n: number): Promise<void> {
  const before = await policyVersion(s);
  writeFileSync(join(s.rulesDir, 'changed.json'), JSON.stringify({ rules: [{ id: 'changed', citation: `Art. ${n}`, effect: 'deny', categories: ['c0'] }] }));
  const until = Date.now() + 60_000;
  while ((await policyVersion(s)) === before) {
    if (Date.now() > until) throw new Error(`${s.label}: the reload did not land within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The service's own event-loop delay since the last reading, in ms (prom-client resets its
 * histogram at each scrape): what its thread stalled, apart from what the shared machine did to
 * the load generator.
 */
async function loopDelay(s: Service): Promise<{ max: number; p99: number }> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const read = (name: string): number => 1000 * Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { max: read('nodejs_eventloop_lag_max_seconds'), p99: read('nodejs_eventloop_lag_p99_seconds') };
}

const quantile = (xs: number[], q: number): number => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? Number.NaN;

try {
  const services = [await service('reloads in their own process', {}), await service('reloads on the service thread', { COVENANT_BENCH_RELOAD_ON_SERVICE_THREAD: '1' })];
  const results = services.map(() => ({ quiet: [] as number[], reloading: [] as number[], bad: 0, loop: { quiet: [] as number[], reloading: [] as number[] } }));
  for (const s of services) await paced(s, 2); // warm-up, not reported
  let n = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, s] of services.entries()) {
      const into = results[i] as (typeof results)[number];
      await loopDelay(s);
      const quiet = await paced(s, SLICE_SECONDS);
      into.loop.quiet.push((await loopDelay(s)).max);
      const reloading = await paced(s, SLICE_SECONDS, () => reload(s, ++n));
      into.loop.reloading.push((await loopDelay(s)).max);
      into.quiet = into.quiet.concat(quiet.latencies);
      into.reloading = into.reloading.concat(reloading.latencies);
      into.bad += quiet.bad + reloading.bad;
    }
  }
  const ms = (x: number): string => x.toFixed(1);
  console.log(`covenant reload benchmark: ${RULES} rules, decisions evenly paced at ${RATE}/s, ${ROUNDS} rounds of ${SLICE_SECONDS} s quiet and ${SLICE_SECONDS} s with one reload, by turns (node ${process.version})\n`);
  console.log('| service | while | decisions | p50 ms | p99 ms | max ms |');
  console.log('|---|---|---:|---:|---:|---:|');
  const ratios: string[] = [];
  for (const [i, s] of services.entries()) {
    const r = results[i] as (typeof results)[number];
    for (const [phase, xs] of [['quiet', r.quiet], ['reloading', r.reloading]] as const) {
      xs.sort((a, b) => a - b);
      console.log(`| ${s.label} | ${phase} | ${xs.length} | ${ms(quantile(xs, 0.5))} | ${ms(quantile(xs, 0.99))} | ${ms(xs[xs.length - 1] ?? Number.NaN)} |`);
    }
    ratios.push(`${s.label}: ${(quantile(r.reloading, 0.99) / quantile(r.quiet, 0.99)).toFixed(2)} (non-200: ${r.bad})`);
  }
  console.log(`\np99 while reloading / p99 while quiet — ${ratios.join('; ')}`);
  const ms1 = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
  for (const [i, s] of services.entries()) {
    const r = results[i] as (typeof results)[number];
    console.log(`${s.label}: the service's largest event-loop delay in each slice, quiet ${ms1(r.loop.quiet)} ms; reloading ${ms1(r.loop.reloading)} ms`);
  }
} finally {
  for (const proc of started) proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
}
