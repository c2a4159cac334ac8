// When a decision cannot be recorded, the answer is a 503, never a decision (CONTRACT 3). The
// fault is real: the log's file is closed under it, so its next write fails.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/audit/segment-log.js';
import { generateSignerKey, parseSignerKey } from '../src/audit/note.js';
import { KeyStore } from '../src/keys/store.js';
import { PolicySource } from '../src/loader/policy-source.js';
import { ReviewThread } from '../src/service/review-thread.js';
import { createApp } from '../src/http/app.js';
import { createMetrics } from '../src/http/metrics.js';
import { ROOT, waitFor } from './helpers.js';
import { exampleRequest } from './server-helpers.js';

describe('a log that cannot record', () => {
  it('answers 503 and is not ready, never answers a decision, and heals once it can write again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'covenant-503-'));
    const key = parseSignerKey(generateSignerKey('covenant.test/log'));
    if (!key.ok) throw new Error(key.reason);
    const log = await SegmentLog.open(join(dir, 'log'), { signer: key.signer });
    const keys = await KeyStore.open(join(dir, 'keys.json'));
    const { key: apiKey } = await keys.add({ role: 'partner', partner: 'belastingdienst' }, new Date());
    const policy = await PolicySource.start({ policies: join(ROOT, 'policies'), rules: join(ROOT, 'rules') }, { now: Date.now });
    if (!(policy instanceof PolicySource)) throw new Error('example covenant does not load');
    const app = createApp({ log, keys, policy, now: Date.now, newId: (t) => log.newId(t), maxSkewMs: 300_000, bodyLimitBytes: 65_536, metrics: createMetrics(), logger: pino({ level: 'silent' }), review: new ReviewThread(log, join(dir, 'log')) });
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const decide = () => fetch(`${url}/v1/decisions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(exampleRequest) });
    try {
      expect((await decide()).status).toBe(200);
      await (log as unknown as { fh: { close(): Promise<void> } }).fh.close();
      const failed = await decide();
      expect(failed.status).toBe(503);
      const body = (await failed.json()) as { decision?: string; title: string };
      expect(body.decision).toBeUndefined();
      expect(body.title).toBe('the decision could not be recorded');
      expect((await decide()).status).toBe(503);
      expect((await fetch(`${url}/readyz`)).status).toBe(503);
      // and it heals: within seconds the log takes entries again, and is intact
      const healed = await waitFor(async () => ((await decide()).status === 200 ? true : undefined), 5000);
      expect(healed).toBe(true);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect(await log.verify()).toMatchObject({ ok: true });
    } finally {
      await new Promise((r) => server.close(r));
      policy.close();
    }
  });
});
