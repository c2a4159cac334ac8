// `npm run bench:http -- --database URL`: the service on PostgreSQL, one replica and two, beside the
// single-node segment log, loaded by turns in one run (autocannon, 50 connections in all); then the
// sequencer alone (PgLog appends, no HTTP) at 1, 4 and 16 concurrent writers; then an evenly paced
// load at half of each backend's saturating rate, latency from the intended send time, beside a
// route that does only the same durable write (bench/durable-server.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { child, started } from './processes.js';
import { paced, quantile, type Paced } from './paced.js';
import { KeyStore } from '../src/keys/store.js';
import { dataPaths } from '../src/data-paths.js';
import { withKeys } from '../src/storage.js';
import { generateSignerKey, parseSignerKey, type NoteSigner } from '../src/audit/note.js';
import { PgLog } from '../src/audit/pg-log.js';
import { redacted } from '../src/audit/pg-schema.js';
import type { EntryDraft } from '../src/audit/types.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TURNS = 5;
const body = JSON.stringify({ provider: 'belastingdienst', recipient: 'fiod', dataCategories: ['fiscal.income'], purpose: 'nsoc.tbml', legalBasis: 'awr-67-43c', subjectCount: 12 });

interface Target {
  readonly name: string;
  readonly urls: readonly string[];
  readonly headers: Record<string, string>;
}

/** Requests a second over all of a target's urls at once, 50 connections shared among them. */
async function saturate(t: Target, seconds: number): Promise<{ rps: number; bad: number }> {
  const results = await Promise.all(
    t.urls.map(
      (url) =>
        new Promise<autocannon.Result>((resolve, reject) =>
          autocannon({ url, method: 'POST', body, headers: { 'content-type': 'application/json', ...t.headers }, connections: Math.floor(50 / t.urls.length), duration: seconds }, (e, r) => (e ? reject(e) : resolve(r))),
        ),
    ),
  );
  return { rps: results.reduce((s, r) => s + r.requests.total / r.duration, 0), bad: results.reduce((s, r) => s + r.non2xx + r.errors, 0) };
}

/** Entries a second that `writers` logs (each as a replica would be) append together, 64 in flight each. */
async function sequencer(url: string, writers: number, signer: NoteSigner, seconds: number): Promise<number> {
  const schema = `bench_seq_${randomBytes(5).toString('hex')}`;
  const logs = [];
  for (let i = 0; i < writers; i++) logs.push(await PgLog.connect(url, { schema, signer }));
  const caller = { keyId: 'k', role: 'partner' as const, partner: 'belastingdienst' };
  let count = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    logs.flatMap((log) =>
      Array.from({ length: 64 }, async () => {
        while (performance.now() < until) {
          const t = Date.now();
          const draft: EntryDraft = { kind: 'refusal', id: log.newId(t), at: new Date(t).toISOString(), caller, route: 'POST /v1/decisions', status: 400, errors: [{ path: '', message: 'bench' }] };
          await log.appendProven(draft);
          count++;
        }
      }),
    ),
  );
  await Promise.all(logs.map((l) => l.close()));
  return count / seconds;
}

const ms = (x: number): string => x.toFixed(1);
const line = (p: Paced): string => `${p.ok}/${p.sent} | ${ms(quantile(p.latencies, 0.5))} | ${ms(quantile(p.latencies, 0.99))} | ${ms(p.lag)}`;

/** Paced loads of two targets by turns at one rate; the latencies of each over all its turns. */
async function pacedTurns(a: { url: string; headers: Record<string, string> }, b: { url: string; headers: Record<string, string> }, rate: number): Promise<[Paced, Paced]> {
  const runs: [Paced[], Paced[]] = [[], []];
  for (let t = 0; t < TURNS; t++) {
    runs[0].push(await paced(a.url, body, a.headers, rate, SECONDS / TURNS));
    runs[1].push(await paced(b.url, body, b.headers, rate, SECONDS / TURNS));
  }
  const merge = (ps: Paced[]): Paced => ({
    sent: ps.reduce((s, p) => s + p.sent, 0),
    ok: ps.reduce((s, p) => s + p.ok, 0),
    latencies: ps.flatMap((p) => p.latencies).sort((x, y) => x - y),
    lag: Math.max(...ps.map((p) => p.lag)),
  });
  return [merge(runs[0]), merge(runs[1])];
}

export async function replicasBench(url: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'covenant-bench-replicas-'));
  const keyText = generateSignerKey('covenant/bench');
  const logKey = join(work, 'log.key');
  writeFileSync(logKey, `${keyText}\n`, { mode: 0o600 });
  const signer = (parseSignerKey(keyText) as { ok: true; signer: NoteSigner }).signer;
  const folder = join(work, 'folder');
  const { key: fileKey } = await (await KeyStore.open(dataPaths(folder).keys)).add({ role: 'partner', partner: 'belastingdienst' }, new Date());
  const database = { url, schema: `bench_${randomBytes(5).toString('hex')}` };
  const { key: pgKey } = await withKeys(join(work, 'unused'), database, (k) => k.add({ role: 'partner', partner: 'belastingdienst' }, new Date()));
  const pgEnv = { COVENANT_DATABASE_URL: url, COVENANT_DATABASE_SCHEMA: database.schema };
  try {
    const file = await child(['bin/covenant.js', 'serve', '--port', '$PORT', '--data', folder, '--log-key', logKey]);
    const a = await child(['bin/covenant.js', 'serve', '--port', '$PORT', '--data', join(work, 'a'), '--log-key', logKey], pgEnv);
    const b = await child(['bin/covenant.js', 'serve', '--port', '$PORT', '--data', join(work, 'b'), '--log-key', logKey], pgEnv);
    const fileBaseline = await child(['--import', 'tsx', 'bench/durable-server.ts']);
    const pgBaseline = await child(['--import', 'tsx', 'bench/durable-server.ts'], { DATABASE_URL: url });
    const targets: Target[] = [
      { name: 'segment log, one node', urls: [`${file.url}/v1/decisions`], headers: { authorization: `Bearer ${fileKey}` } },
      { name: 'PostgreSQL, one replica', urls: [`${a.url}/v1/decisions`], headers: { authorization: `Bearer ${pgKey}` } },
      { name: 'PostgreSQL, two replicas', urls: [`${a.url}/v1/decisions`, `${b.url}/v1/decisions`], headers: { authorization: `Bearer ${pgKey}` } },
    ];
    for (const t of targets) await saturate(t, 2); // warm-up, not reported
    const each = targets.map(() => [] as number[]);
    let bad = 0;
    for (let turn = 0; turn < TURNS; turn++) {
      for (const [i, t] of targets.entries()) {
        const r = await saturate(t, SECONDS / TURNS);
        each[i]?.push(r.rps);
        bad += r.bad;
      }
    }
    const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    const [fileRps, oneRps, twoRps] = each.map(mean) as [number, number, number];
    console.log(`covenant on PostgreSQL (${redacted(url)}), node ${process.version}; autocannon, 50 connections in all, ${SECONDS} s each in ${TURNS} turns\n`);
    console.log('| service | decisions/s | in each turn |');
    console.log('|---|---:|---|');
    targets.forEach((t, i) => console.log(`| ${t.name} | ${Math.round(mean(each[i] as number[]))} | ${(each[i] as number[]).map(Math.round).join(', ')} |`));
    console.log(`\nPostgreSQL / segment log: ${(oneRps / fileRps).toFixed(2)} (target ≥ 0.5: ${oneRps / fileRps >= 0.5 ? 'met' : 'MISSED'}); ` +
      `two replicas / one: ${(twoRps / oneRps).toFixed(2)} (target ≥ 1.5 where the cores allow); non-2xx or errors: ${bad}`);

    console.log('\nthe sequencer alone (PgLog.appendProven, no HTTP; 64 appends in flight per writer, each writer its own pool, as a replica):\n');
    console.log('| writers | entries/s |');
    console.log('|---:|---:|');
    for (const writers of [1, 4, 16]) console.log(`| ${writers} | ${Math.round(await sequencer(url, writers, signer, SECONDS / 2))} |`);

    console.log('\nevenly paced (open loop) at half the saturating rate, latency from the intended send time, by turns beside the same durable write alone:\n');
    console.log('| route | rate/s | answered 2xx/sent | p50 ms | p99 ms | client lag ms |');
    console.log('|---|---:|---:|---:|---:|---:|');
    // Half the saturating rate, as the issue asks; and 200/s, where the durable write alone (one
    // write per request, no group commit) is not itself overloaded, so the two can be compared.
    for (const [name, target, baseline, rps] of [
      ['segment log', targets[0] as Target, `${fileBaseline.url}/durable`, fileRps],
      ['PostgreSQL, one replica', targets[1] as Target, `${pgBaseline.url}/durable`, oneRps],
    ] as const) {
      for (const rate of [Math.max(1, Math.floor(rps / 2)), 200]) {
        const [decided, alone] = await pacedTurns({ url: target.urls[0] as string, headers: target.headers }, { url: baseline, headers: {} }, rate);
        console.log(`| decisions, ${name} | ${rate} | ${line(decided)} |`);
        console.log(`| the durable write alone (${name === 'segment log' ? 'O_DSYNC append' : 'one-row committed insert'}) | ${rate} | ${line(alone)} |`);
        const ratio = quantile(decided.latencies, 0.99) / quantile(alone.latencies, 0.99);
        console.log(`| p99 ratio, ${name}, ${rate}/s | | | | ${ratio.toFixed(2)} (target ≤ 1.5: ${ratio <= 1.5 ? 'met' : 'MISSED'}) | |`);
      }
    }
  } finally {
    for (const proc of started) proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(work, { recursive: true, force: true });
  }
}
