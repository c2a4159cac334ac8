// Replicas of the service on one PostgreSQL database, as an operator runs them: separate
// processes, keys made with the command line, one killed with SIGKILL under load, the database
// taken away and given back.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cli, cliAsync, waitFor } from './helpers.js';
import { exampleRequest, serveProcess } from './server-helpers.js';
import { PG_URL } from './pg.js';
import { OWN_SERVER, ownServer } from './pg-server.js';

const work = mkdtempSync(join(tmpdir(), 'covenant-replicas-'));
const logKey = join(work, 'log.key');
const children: ChildProcess[] = [];

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((r) => {
    child.once('exit', r);
    child.kill(signal);
  });
}

afterAll(async () => {
  await Promise.all(children.map((c) => stop(c)));
});

/** One deployment: a schema of its own, keys made through the command line. */
function deployment(url: string): { env: Record<string, string>; partner: string; auditor: string; replica: () => Promise<{ child: ChildProcess; url: string }> } {
  const env = { COVENANT_DATABASE_URL: url, COVENANT_DATABASE_SCHEMA: `r_${randomBytes(6).toString('hex')}` };
  const key = (args: string[]): string => {
    const r = cli(['keys', 'add', ...args], { env });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim();
  };
  const partner = key(['--role', 'partner', '--partner', 'belastingdienst']);
  const auditor = key(['--role', 'auditor']);
  return {
    env,
    partner,
    auditor,
    replica: async () => {
      const r = await serveProcess(mkdtempSync(join(work, 'data-')), ['--log-key', logKey], env);
      children.push(r.child);
      return r;
    },
  };
}

const decide = (url: string, key: string): Promise<Response> =>
  fetch(`${url}/v1/decisions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(exampleRequest) });

/** Decisions asked on all urls, `concurrency` at a time, until `n` were asked (or while `n()`); the answers that came. */
async function load(urls: () => readonly string[], key: string, n: number | (() => boolean), concurrency = 8): Promise<{ status: number; id?: string; receipt?: unknown }[]> {
  const out: { status: number; id?: string; receipt?: unknown }[] = [];
  let asked = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (typeof n === 'number' ? asked < n : n()) {
        const i = asked++;
        const list = urls();
        const url = list[(i + w) % list.length] as string;
        try {
          const res = await decide(url, key);
          const body = (await res.json()) as { decisionId?: string; receipt?: unknown };
          out.push({ status: res.status, ...(body.decisionId && { id: body.decisionId }), ...(body.receipt !== undefined && { receipt: body.receipt }) });
        } catch {
          out.push({ status: 0 }); // the connection went with the process: not answered
        }
      }
    }),
  );
  return out;
}

describe.runIf(PG_URL)('replicas on one PostgreSQL database', () => {
  beforeAll(() => {
    const r = cli(['log-key', 'init', logKey]);
    expect(r.status, r.stderr).toBe(0);
  });

  it('answer from one log: gapless, verifiable with every receipt, and a key revoked through the command line is refused by both within 2 s', async () => {
    const d = deployment(PG_URL as string);
    const [a, b] = await Promise.all([d.replica(), d.replica()]);
    const answers = await load(() => [a.url, b.url], d.partner, 300);
    expect(answers.every((x) => x.status === 200)).toBe(true);
    const receipts = join(work, 'receipts.ndjson');
    writeFileSync(receipts, answers.map((x) => JSON.stringify(x.receipt)).join('\n'));
    // --log-key takes the verifier key: the service serves it
    const vkey = await (await fetch(`${a.url}/v1/audit/log-key`)).text();
    const checked = cli(['audit', 'verify', '--receipts', receipts, '--log-key', vkey.trim()], { env: d.env });
    expect(checked.stdout, checked.stderr).toMatch(/^intact: 302 entries.*agrees with all/);
    // listing through either replica shows the decisions of both, and every review route reads the one log
    const get = async (url: string): Promise<any> => (await fetch(url, { headers: { authorization: `Bearer ${d.auditor}` } })).json(); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect((await get(`${b.url}/v1/decisions?limit=500`)).items).toHaveLength(300);
    expect((await get(`${b.url}/v1/decisions?limit=500&provider=belastingdienst&category=fiscal&decision=permit`)).items).toHaveLength(300);
    expect(await get(`${a.url}/v1/audit/verify`)).toMatchObject({ ok: true, entries: 302 });
    expect((await get(`${b.url}/v1/audit/report`)).decisions).toEqual({ permit: 300, deny: 0 });
    expect(await get(`${a.url}/v1/audit/export/digest`)).toMatchObject({ count: 302 });
    const id = answers[150]?.id as string;
    expect(await get(`${b.url}/v1/decisions/${id}/replay`)).toMatchObject({ reproduced: true });
    const proof = await get(`${a.url}/v1/audit/inclusion?id=${id}`);
    expect(proof.checkpoint).toMatch(/^covenant\//);
    expect((await get(`${b.url}/v1/audit/consistency?from=10`)).proof.length).toBeGreaterThan(0);
    expect((await get(`${a.url}/v1/policy/matrix?format=json`)).rows.length).toBeGreaterThan(0);
    const files = ['policies', 'rules'].flatMap((folder) =>
      readdirSync(join(ROOT, folder)).filter((f) => /\.ya?ml$/.test(f) && !/\.test\./.test(f)).map((f) => ({ name: `${folder}/${f}`, content: readFileSync(join(ROOT, folder, f), 'utf8') })),
    );
    const impact = await fetch(`${b.url}/v1/policy/impact`, { method: 'POST', headers: { authorization: `Bearer ${d.auditor}`, 'content-type': 'application/json' }, body: JSON.stringify({ files }) });
    expect(await impact.json()).toMatchObject({ evaluated: 300, flips: [] });

    // the console: signed in through one replica, the session holds on the other, and a sign-out there holds on both
    const form = (url: string, path: string, fields: Record<string, string>, cookie = ''): Promise<Response> =>
      fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url, ...(cookie && { cookie }) }, body: new URLSearchParams(fields).toString(), redirect: 'manual' });
    const signedIn = await form(a.url, '/console/sign-in', { key: d.auditor });
    expect(signedIn.status).toBe(303);
    const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const page = (url: string, path = '/console/log'): Promise<Response> => fetch(`${url}${path}`, { headers: { cookie }, redirect: 'manual' });
    expect((await page(b.url)).status).toBe(200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await (await page(b.url, '/console')).text())?.[1] ?? '';
    expect((await form(b.url, '/console/sign-out', { csrf }, cookie)).status).toBe(303);
    await waitFor(async () => ((await page(a.url)).status === 303) || undefined, 2000);

    const keys = JSON.parse(cli(['keys', 'list', '--format', 'json'], { env: d.env }).stdout) as { id: string; role: string }[];
    const partnerId = keys.find((k) => k.role === 'partner')?.id as string;
    expect(cli(['keys', 'revoke', partnerId], { env: d.env }).status).toBe(0);
    const revokedAt = Date.now();
    await waitFor(async () => ((await decide(a.url, d.partner)).status === 401 && (await decide(b.url, d.partner)).status === 401) || undefined, 2000);
    expect(Date.now() - revokedAt).toBeLessThan(2500);
    await Promise.all([stop(a.child), stop(b.child)]);
  });

  it('lose no answered decision when one of two is killed with SIGKILL under load, five rounds', async () => {
    const d = deployment(PG_URL as string);
    const steady = await d.replica();
    const answered: string[] = [];
    let cut = 0;
    for (let round = 0; round < 5; round++) {
      const victim = await d.replica();
      const urls = [steady.url, victim.url];
      let running = true;
      const loading = load(() => urls, d.partner, () => running);
      await new Promise((r) => setTimeout(r, 150 + round * 60));
      // a burst sent just before the kill, so that requests are in flight when it comes
      const burst = load(() => [victim.url], d.partner, 20, 20);
      await new Promise((r) => setTimeout(r, 2));
      await stop(victim.child, 'SIGKILL');
      urls.splice(1, 1); // the load balancer notices
      await new Promise((r) => setTimeout(r, 300));
      running = false;
      const answers = [...(await loading), ...(await burst)];
      answered.push(...answers.filter((x) => x.status === 200).map((x) => x.id as string));
      cut += answers.filter((x) => x.status === 0).length;
    }
    const exported = await cliAsync(['audit', 'export'], { env: d.env });
    const logged = new Set(exported.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id));
    expect(answered.length).toBeGreaterThan(500);
    // the kill did cut requests in flight: this is the case under test, not a quiet stop
    expect(cut).toBeGreaterThan(0);
    expect(answered.filter((id) => !logged.has(id))).toEqual([]);
    const verify = cli(['audit', 'verify'], { env: d.env });
    expect(verify.stdout).toMatch(/^intact/);
    await stop(steady.child);
  });

  it.runIf(OWN_SERVER)('answer 503 within a second while PostgreSQL is stopped under load, are not ready, and recover by themselves when it returns', async () => {
    // a server of its own, to stop without stopping the others' tests
    const server = await ownServer();
    try {
      const d = deployment(server.url);
      const [a, b] = await Promise.all([d.replica(), d.replica()]);
      const asked: { at: number; ms: number; status: number; id?: string }[] = [];
      let running = true;
      const load = Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; running; i++) {
            const at = Date.now();
            const res = await decide([a, b][(i + w) % 2]?.url as string, d.partner).catch(() => undefined);
            const body = res ? ((await res.json()) as { decisionId?: string }) : {};
            asked.push({ at, ms: Date.now() - at, status: res?.status ?? 0, ...(body.decisionId && { id: body.decisionId }) });
            if (res?.status !== 200) await new Promise((r) => setTimeout(r, 20));
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 1000));
      const stopping = Date.now();
      server.stop('fast');
      const stopped = Date.now();
      await new Promise((r) => setTimeout(r, 2000));
      for (const r of [a, b]) expect((await fetch(`${r.url}/readyz`)).status).toBe(503);
      server.start();
      const restarted = Date.now();
      for (const r of [a, b]) await waitFor(async () => ((await fetch(`${r.url}/readyz`)).status === 200) || undefined, 10_000);
      const ready = Date.now();
      await new Promise((r) => setTimeout(r, 1000));
      running = false;
      await load;
      // while it was down: every decision asked was refused, 503, each within a second
      const during = asked.filter((x) => x.at > stopped + 200 && x.at + x.ms < restarted);
      expect(during.length).toBeGreaterThan(10);
      expect(during.filter((x) => x.status !== 503)).toEqual([]);
      expect(Math.max(...during.map((x) => x.ms))).toBeLessThan(1000);
      // before and after: answered
      expect(asked.filter((x) => x.at + x.ms < stopping && x.status !== 200)).toEqual([]);
      const after = asked.filter((x) => x.at > ready);
      expect(after.length).toBeGreaterThan(10);
      expect(after.every((x) => x.status === 200)).toBe(true);
      // nothing answered is missing, and the chain is intact
      const exported = await cliAsync(['audit', 'export'], { env: d.env });
      const logged = new Set(exported.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id));
      expect(asked.filter((x) => x.status === 200 && !logged.has(x.id as string))).toEqual([]);
      expect(cli(['audit', 'verify'], { env: d.env }).stdout).toMatch(/^intact/);
      await Promise.all([stop(a.child), stop(b.child)]);
    } finally {
      server.remove();
    }
  });
});

describe.runIf(PG_URL)('covenant audit migrate', () => {
  it('copies a data folder into an empty database so that old receipts still verify and replicas carry on the chain; refuses a full database and an altered folder', async () => {
    const key = join(work, 'migrate.key');
    const vkey = cli(['log-key', 'init', key]).stdout.trim();
    const data = mkdtempSync(join(work, 'folder-'));
    const partner = cli(['keys', 'add', '--role', 'partner', '--partner', 'belastingdienst', '--data', data]).stdout.trim();
    const single = await serveProcess(data, ['--log-key', key]);
    children.push(single.child);
    const before = await load(() => [single.url], partner, 30);
    await stop(single.child);
    const env = { COVENANT_DATABASE_URL: PG_URL as string, COVENANT_DATABASE_SCHEMA: `m_${randomBytes(6).toString('hex')}` };
    const migrated = cli(['audit', 'migrate', '--data', data, '--log-key', key], { env });
    expect(migrated.status, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/^copied 31 entries, 1 keys, 0 approvals and 1 policy versions/);
    expect(migrated.stdout).toMatch(/the copy verifies: head 31 /);
    // again: the database is no longer empty
    expect(cli(['audit', 'migrate', '--data', data, '--log-key', key], { env }).status).toBe(2);

    // replicas on the copy: the same key works, the chain goes on, and every receipt checks out
    const replica = await serveProcess(mkdtempSync(join(work, 'data-')), ['--log-key', key], env);
    children.push(replica.child);
    const after = await load(() => [replica.url], partner, 20);
    expect([...before, ...after].every((x) => x.status === 200)).toBe(true);
    const receipts = join(work, 'migrated-receipts.ndjson');
    writeFileSync(receipts, [...before, ...after].map((x) => JSON.stringify(x.receipt)).join('\n'));
    const checked = cli(['audit', 'verify', '--receipts', receipts, '--log-key', vkey], { env });
    expect(checked.stdout, checked.stderr).toMatch(/^intact: 52 entries.*agrees with all/);
    await stop(replica.child);

    // a folder whose log was altered is not copied
    const segments = join(data, 'log', 'segments');
    const file = join(segments, readdirSync(segments)[0] as string);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"permit"', '"deny"'));
    const refused = cli(['audit', 'migrate', '--data', data, '--log-key', key], { env: { ...env, COVENANT_DATABASE_SCHEMA: `m_${randomBytes(6).toString('hex')}` } });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/does not verify.*nothing was copied/);
  });
});
