import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { KeyStore } from '../src/keys/store.js';
const variants: Record<string, Record<string, string>> = JSON.parse(process.argv[2] as string);
const body = JSON.stringify({ provider: 'belastingdienst', recipient: 'fiod', dataCategories: ['fiscal.income'], purpose: 'nsoc.tbml', legalBasis: 'awr-67-43c', subjectCount: 12 });
const procs: ChildProcess[] = [];
const svc: { name: string; url: string; key: string }[] = [];
let port = 19300;
for (const [name, env] of Object.entries(variants)) {
  const dir = mkdtempSync(join(tmpdir(), 'xb-'));
  const key = (await (await KeyStore.open(join(dir, 'keys.json'))).add({ role: 'partner', partner: 'belastingdienst' }, new Date())).key;
  const p = ++port;
  procs.push(spawn(process.execPath, ['/work/main/bin/covenant.js', 'serve', '--port', String(p), '--data', dir], { cwd: '/work/main', stdio: 'ignore', env: { ...process.env, ...env } }));
  svc.push({ name, url: `http://127.0.0.1:${p}/v1/decisions`, key });
}
await new Promise((r) => setTimeout(r, 3000));
const run = (s: typeof svc[number], d: number) => new Promise<number>((res) => autocannon({ url: s.url, method: 'POST', body, connections: 50, duration: d, headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}` } }, (e, r) => res(r.requests.total / r.duration)));
for (const s of svc) await run(s, 2);
const tot: Record<string, number[]> = {};
for (let t = 0; t < Number(process.env.TURNS ?? 5); t++) for (const s of svc) (tot[s.name] ??= []).push(await run(s, 2));
const base = tot[svc[0]!.name]!;
for (const s of svc) { const a = tot[s.name]!; const m = a.reduce((x, y) => x + y) / a.length; console.log(s.name, Math.round(m), (m / (base.reduce((x, y) => x + y) / base.length)).toFixed(2), a.map((x, i) => (x / base[i]!).toFixed(2)).join(' ')); }
for (const p of procs) p.kill();
process.exit(0);
