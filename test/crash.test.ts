// kill -9 under concurrent load, then a restart: every answered decision is in the log, and the
// log verifies, online and offline.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyStore } from '../src/keys/store.js';
import { SegmentLog } from '../src/audit/segment-log.js';
import { dataPaths } from '../src/server.js';
import { cli } from './helpers.js';
import { exampleRequest, serveProcess } from './server-helpers.js';


describe('crash safety', () => {
  it('keeps every answered decision across repeated SIGKILL under load', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'covenant-crash-'));
    const store = await KeyStore.open(dataPaths(dataDir).keys);
    const partner = (await store.add({ role: 'partner', partner: 'belastingdienst' }, new Date())).key;
    const auditor = (await store.add({ role: 'auditor' }, new Date())).key;
    const answered: string[] = [];

    for (let round = 0; round < 3; round++) {
      const { child, url } = await serveProcess(dataDir);
      let stop = false;
      const worker = async (): Promise<void> => {
        while (!stop) {
          try {
            const res = await fetch(`${url}/v1/decisions`, {
              method: 'POST',
              headers: { authorization: `Bearer ${partner}`, 'content-type': 'application/json' },
              body: JSON.stringify(exampleRequest),
            });
            if (res.status === 200) answered.push(((await res.json()) as { decisionId: string }).decisionId);
          } catch {
            return; // the server died mid-request: that answer never arrived
          }
        }
      };
      const workers = Array.from({ length: 16 }, worker);
      await new Promise((r) => setTimeout(r, 700 + round * 300));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      stop = true;
      await Promise.all([...workers, exited]);
    }
    expect(answered.length).toBeGreaterThan(50);

    const { child, url } = await serveProcess(dataDir);
    try {
      const get = (id: string) => fetch(`${url}/v1/decisions/${id}`, { headers: { authorization: `Bearer ${auditor}` } }).then((r) => r.status);
      const statuses = [];
      for (let i = 0; i < answered.length; i += 50) statuses.push(...(await Promise.all(answered.slice(i, i + 50).map(get))));
      expect(statuses.filter((st) => st !== 200)).toEqual([]);
      const verify = (await (await fetch(`${url}/v1/audit/verify`, { headers: { authorization: `Bearer ${auditor}` } })).json()) as { ok: boolean; entries: number };
      expect(verify.ok).toBe(true);
      expect(verify.entries).toBeGreaterThanOrEqual(answered.length);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    const offline = cli(['audit', 'verify', '--data', dataDir]);
    expect(offline.stdout).toMatch(/^intact/);
    expect(offline.status).toBe(0);
  });

  it('shuts down gracefully on SIGTERM, recording what was in flight', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'covenant-term-'));
    const store = await KeyStore.open(dataPaths(dataDir).keys);
    const partner = (await store.add({ role: 'partner', partner: 'belastingdienst' }, new Date())).key;
    const { child, url } = await serveProcess(dataDir);
    const inFlight = Array.from({ length: 20 }, () =>
      fetch(`${url}/v1/decisions`, { method: 'POST', headers: { authorization: `Bearer ${partner}`, 'content-type': 'application/json' }, body: JSON.stringify(exampleRequest) }).then((r) => r.status, () => 0),
    );
    await new Promise((r) => setTimeout(r, 30));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const [code] = await Promise.all([exited, Promise.all(inFlight)]);
    expect(code).toBe(0);
    const answered = (await Promise.all(inFlight)).filter((st) => st === 200).length;
    const v = cli(['audit', 'verify', '--data', dataDir, '--format', 'json']);
    expect(v.status).toBe(0);
    expect(JSON.parse(v.stdout).entries).toBeGreaterThanOrEqual(answered);
  });

  it('shuts down on SIGTERM while callers keep sending on keep-alive connections, and records every answer', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'covenant-term-'));
    const store = await KeyStore.open(dataPaths(dataDir).keys);
    const partner = (await store.add({ role: 'partner', partner: 'belastingdienst' }, new Date())).key;
    const { child, url } = await serveProcess(dataDir);
    const answered: string[] = [];
    let stop = false;
    // Each caller sends its next request as soon as the last is answered: its connection is never
    // idle, so only an answer that asks to close it can end it.
    const callers = Array.from({ length: 10 }, async () => {
      while (!stop) {
        try {
          const r = await fetch(`${url}/v1/decisions`, { method: 'POST', headers: { authorization: `Bearer ${partner}`, 'content-type': 'application/json' }, body: JSON.stringify(exampleRequest) });
          if (r.status === 200) answered.push(((await r.json()) as { decisionId: string }).decisionId);
          else await r.text();
        } catch {
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGTERM');
    // not the forced exit (code 1) that ends a close still waiting after 10 s
    expect(await exited).toBe(0);
    stop = true;
    await Promise.all(callers);
    expect(answered.length).toBeGreaterThan(0);
    const log = await SegmentLog.open(dataPaths(dataDir).log, { readOnly: true });
    const missing = [];
    for (const id of answered) if ((await log.get(id)) === undefined) missing.push(id);
    await log.close();
    expect(missing).toEqual([]);
  });
});
