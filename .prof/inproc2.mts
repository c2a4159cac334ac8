import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SegmentLog } from '/work/main/dist/src/audit/segment-log.js';
import { KeyStore } from '/work/main/dist/src/keys/store.js';
import { PolicySource } from '/work/main/dist/src/loader/policy-source.js';
import { createApp } from '/work/main/dist/src/http/app.js';
import { createMetrics } from '/work/main/dist/src/http/metrics.js';
const dir = mkdtempSync(join(tmpdir(), 'covin-'));
const log = await SegmentLog.open(join(dir, 'log'));
const keys = await KeyStore.open(join(dir, 'keys.json'));
const { key } = await keys.add({ role: 'partner', partner: 'belastingdienst' }, new Date());
const source = await PolicySource.start({ policies: '/work/main/policies', rules: '/work/main/rules' } as any, { now: Date.now, onVersion: () => undefined, onReload: () => undefined } as any) as any;
const metrics = createMetrics({ defaults: false });
const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
const app = createApp({ log, keys, policy: source, now: Date.now, newId: (t: number) => log.newId(t), maxSkewMs: 300000, bodyLimitBytes: 65536, metrics, logger } as any);
const body = JSON.stringify({ provider: 'belastingdienst', recipient: 'fiod', dataCategories: ['fiscal.income'], purpose: 'nsoc.tbml', legalBasis: 'awr-67-43c', subjectCount: 12 });
const one = async () => { const r = await app.fetch(new Request('http://x/v1/decisions', { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } })); if (r.status !== 200) throw new Error(String(r.status)); await r.text(); };
async function run(n: number) { const w = async () => { for (let i = 0; i < n / 50; i++) await one(); }; await Promise.all(Array.from({ length: 50 }, w)); }
await run(5000);
for (let k = 0; k < 3; k++) {
  const c0 = process.cpuUsage(); const t0 = process.hrtime.bigint();
  const N = 40000; await run(N);
  const c = process.cpuUsage(c0); const wall = Number(process.hrtime.bigint() - t0) / 1e3;
  console.log('µs/req wall', (wall / N).toFixed(1), 'user', (c.user / N).toFixed(1), 'sys', (c.system / N).toFixed(1));
}
await log.close(); source.close();
