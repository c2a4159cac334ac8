// `npm run bench:audit`: export, report and impact over a log of 1,000,000 entries, each run as
// the command a privacy officer would run, in its own process so its peak memory is its own.
// Time should grow with the entries in the period, not with the whole log.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentLog } from '../src/audit/segment-log.js';
import type { EntryDraft } from '../src/audit/types.js';
import { loadCovenant } from '../src/loader/files.js';
import { checkRequest, evaluate } from '../src/engine/index.js';
import { KeyStore } from '../src/keys/store.js';
import { child, started } from './processes.js';

const TOTAL = Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);
const START = Date.parse('2024-07-02T00:00:00Z');
const SPAN_MS = 900 * 86_400_000; // the log covers 900 days
const step = SPAN_MS / TOTAL;

const loaded = await loadCovenant({ policies: 'policies', rules: 'rules' });
if (!loaded.covenant) throw new Error('the example covenant does not load');
const covenant = loaded.covenant;
const requests = [
  { provider: 'belastingdienst', recipient: 'fiod', dataCategories: ['fiscal.income'], purpose: 'nsoc.tbml', legalBasis: 'awr-67-43c' },
  { provider: 'belastingdienst', recipient: 'om', dataCategories: ['fiscal.income'], purpose: 'nsoc.tbml', legalBasis: 'awr-67-43c' },
  { provider: 'kmar', recipient: 'douane', dataCategories: ['travel.passenger-data'], purpose: 'nsoc.logistics-service-providers', legalBasis: 'wpg-20', subjectCount: 12 },
  { provider: 'douane', recipient: 'belastingdienst', dataCategories: ['customs.declarations'], purpose: 'nsoc.tbml', legalBasis: 'adw-1-33' },
].map((r) => {
  const c = checkRequest(covenant, r);
  if (!c.ok) throw new Error('bench request invalid');
  return c.value;
});

const dir = mkdtempSync(join(tmpdir(), 'covenant-auditbench-'));
const fillStart = Date.now();
const log = await SegmentLog.open(join(dir, 'log'));
for (let i = 0; i < TOTAL; i += 5000) {
  const batch: Promise<unknown>[] = [];
  for (let j = i; j < Math.min(TOTAL, i + 5000); j++) {
    const at = START + j * step;
    const request = requests[j % requests.length]!;
    const id = log.newId(at);
    const decision = { decisionId: id, ...evaluate(covenant, request, at, { explain: false }) };
    const draft: EntryDraft = { kind: 'decision', id, at: decision.evaluatedAt, caller: { keyId: 'bench', role: 'partner', partner: request.provider }, request, decision, policyVersion: decision.policyVersion };
    batch.push(log.append(draft));
  }
  await Promise.all(batch);
}
await log.close();
const fillSeconds = (Date.now() - fillStart) / 1000;

function run(args: string[]): { seconds: number; rssMiB: number; bytes: number } {
  const out = join(dir, 'out');
  const fd = openSync(out, 'w');
  const t = Date.now();
  const r = spawnSync(process.execPath, ['--import', './bench/rss.js', 'bin/covenant.js', ...args, '--data', dir], { encoding: 'utf8', stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr.slice(-500)}`);
  const kib = Number(/maxrss-kib (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return { seconds: (Date.now() - t) / 1000, rssMiB: kib / 1024, bytes: statSync(out).size };
}

const lastDays = (days: number): string[] => ['--from', new Date(START + SPAN_MS - days * 86_400_000).toISOString()];
const rows: [string, ReturnType<typeof run>][] = [];
for (const [label, args] of [
  ['export, whole log', ['audit', 'export']],
  ['export, last 9 days (1%)', ['audit', 'export', ...lastDays(9)]],
  ['report, whole log', ['audit', 'report']],
  ['report, last 9 days (1%)', ['audit', 'report', ...lastDays(9)]],
  ['impact, whole log', ['impact', '--format', 'json']],
  ['impact, last 9 days (1%)', ['impact', '--format', 'json', ...lastDays(9)]],
] as const) {
  rows.push([label, run([...args])]);
}

// The console's log page over the same log, as an auditor opens it: the service started on the
// data folder, signed in, the first page (50 entries) and a filtered first page, each the median
// of five, beside /healthz on the same service as the reference for what a request costs here.
const keys = await KeyStore.open(join(dir, 'keys.json'));
const auditorKey = (await keys.add({ role: 'auditor' }, new Date())).key;
const { url } = await child(['bin/covenant.js', 'serve', '--port', '$PORT', '--data', dir]);
const signIn = await fetch(`${url}/console/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url }, body: new URLSearchParams({ key: auditorKey }).toString(), redirect: 'manual' });
const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
const median = async (path: string, headers: Record<string, string> = {}): Promise<number> => {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const res = await fetch(`${url}${path}`, { headers });
    const text = await res.text();
    if (res.status !== 200 || (path.startsWith('/console/log') && !text.includes('<tbody><tr>'))) throw new Error(`${path}: ${res.status}`);
    times.push(performance.now() - t);
  }
  return times.sort((x, y) => x - y)[2] as number;
};
const consoleRows: [string, number][] = [
  ['GET /healthz (reference)', await median('/healthz')],
  ['console log, first page', await median('/console/log', { cookie })],
  ['console log, first page of one provider', await median('/console/log?provider=kmar', { cookie })],
  ['console log, a page of one provider and decision', await median('/console/log?provider=belastingdienst&decision=deny', { cookie })],
];
for (const proc of started) proc.kill('SIGTERM');
await new Promise((r) => setTimeout(r, 500));
rmSync(dir, { recursive: true, force: true });

console.log(`covenant audit benchmark: ${TOTAL.toLocaleString('en-US')} log entries (filled in ${fillSeconds.toFixed(0)} s), node ${process.version}\n`);
console.log('| command | seconds | peak RSS MiB | output MiB |');
console.log('|---|---:|---:|---:|');
for (const [label, r] of rows) console.log(`| ${label} | ${r.seconds.toFixed(1)} | ${r.rssMiB.toFixed(0)} | ${(r.bytes / 2 ** 20).toFixed(1)} |`);
const ratio = (a: string, b: string): number => rows.find(([l]) => l === b)![1].seconds / rows.find(([l]) => l === a)![1].seconds;
console.log(`\ntime for 1% of the period against the whole log: export ${ratio('export, whole log', 'export, last 9 days (1%)').toFixed(3)}, ` +
  `report ${ratio('report, whole log', 'report, last 9 days (1%)').toFixed(3)}, impact ${ratio('impact, whole log', 'impact, last 9 days (1%)').toFixed(3)} ` +
  '(each includes about 0.5 s of process start)');
console.log(`\nthe console's log page over ${TOTAL.toLocaleString('en-US')} entries (median of 5, ms; target: first page under 1,000 ms):`);
for (const [label, ms] of consoleRows) console.log(`- ${label}: ${ms.toFixed(1)} ms`);
