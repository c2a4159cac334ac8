// The PostgreSQL log against a real server: the same answers as the segment log for the same
// entries, one order across replicas, and tampering with the tables noticed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PgLog } from '../src/audit/pg-log.js';
import { SegmentLog } from '../src/audit/segment-log.js';
import { generateSignerKey, parseSignerKey, type NoteSigner } from '../src/audit/note.js';
import { parseVerifierKey, verifyConsistency, verifyInclusion, verifyReceipt, type Receipt } from '../src/verifier/receipt.js';
import { checkAnchors, receiptAnchors, type Anchor } from '../src/audit/anchors.js';
import { IdSource } from '../src/audit/ids.js';
import type { DecisionLog, EntryDraft, EntryKind, ListFilter, LogEntry } from '../src/audit/types.js';
import { PG_URL } from './pg.js';

const signerOf = (name: string): NoteSigner => {
  const k = parseSignerKey(generateSignerKey(name));
  if (!k.ok) throw new Error(k.reason);
  return k.signer;
};
const signer = signerOf('covenant/test');
const vkey = parseVerifierKey(signer.verifierKey);
const schema = (): string => `t_${randomBytes(8).toString('hex')}`;
const admin = PG_URL ? new pg.Pool({ connectionString: PG_URL, max: 2 }) : undefined;
afterAll(async () => admin?.end());

const PROVIDERS = ['politie', 'fiod', 'douane'];
const CATEGORIES = ['financieel.transacties', 'financieel.rekeningen', 'identiteit', 'logistiek.containers.vracht'];
const KINDS: EntryKind[] = ['decision', 'simulation', 'refusal'];

/** Drafts from a seed: every field a filter looks at varies. Times step forward from one start. */
function drafts(n: number, seed: number): EntryDraft[] {
  const ids = new IdSource();
  const rnd = fc.sample(fc.tuple(fc.nat(2), fc.nat(2), fc.nat(3), fc.nat(3), fc.boolean(), fc.nat(2), fc.nat(2)), { numRuns: n, seed });
  let t = Date.parse('2026-03-01T10:00:00Z');
  return rnd.map(([p, r, c1, c2, permit, k, key], i) => {
    t += 1000;
    const id = ids.next(t);
    const at = new Date(t).toISOString();
    const caller = { keyId: `k${key}`, role: 'partner' as const, partner: PROVIDERS[p] as string };
    const request = {
      provider: PROVIDERS[p] as string,
      recipient: PROVIDERS[(p + 1 + (r % 2)) % 3] as string,
      dataCategories: [...new Set([CATEGORIES[c1] as string, CATEGORIES[c2] as string])],
      purpose: i % 2 ? 'ondermijning' : 'witwassen',
      legalBasis: i % 3 ? 'wpg-16' : 'awr-67',
      ...(i % 4 === 0 && { caseReference: `case-${i % 8}` }),
    };
    const kind = KINDS[k] as EntryKind;
    if (kind === 'refusal') return { kind, id, at, caller, route: 'POST /v1/decisions', status: 400, errors: [{ path: '/x', message: 'no' }], request: { ...request, provider: 42 } };
    const categories = request.dataCategories.map((category, j) => ({ category, decision: permit ? 'permit' : 'deny', rules: [`rule-${(i + j) % 5}`] }));
    const decision = { decisionId: id, decision: permit ? 'permit' : 'deny', categories, reasons: [], obligations: [], nearMisses: [], policyVersion: 'sha256:x', evaluatedAt: at };
    return { kind, id, at, caller, request, decision, policyVersion: 'sha256:x' } as unknown as EntryDraft;
  });
}

async function all(log: DecisionLog, filter: ListFilter): Promise<number[]> {
  const seqs: number[] = [];
  let before: number | undefined;
  do {
    const page = await log.list(filter, { limit: 9, ...(before !== undefined && { before }) });
    seqs.push(...page.items.map((e) => e.seq));
    before = page.next;
  } while (before !== undefined);
  return seqs;
}

describe.runIf(PG_URL)('the PostgreSQL log', () => {
  it('holds the same entries, tree and listings as the segment log given the same drafts', async () => {
    const ds = drafts(151, 7);
    const last = ds.pop() as EntryDraft;
    const file = await SegmentLog.open(mkdtempSync(join(tmpdir(), 'covenant-pg-')), { signer });
    const db = await PgLog.connect(PG_URL as string, { schema: schema(), signer });
    const a: LogEntry[] = [];
    const b: LogEntry[] = [];
    // batches of different sizes on each side: the result must not depend on how they were grouped
    for (let i = 0; i < ds.length; i += 10) {
      a.push(...(await Promise.all(ds.slice(i, i + 10).map((d) => file.append(d)))));
      for (const d of ds.slice(i, i + 10)) b.push(await db.append(d));
    }
    expect(b).toEqual(a);
    const [pa, pb] = await Promise.all([file.appendProven(last), db.appendProven(last)]);
    expect(JSON.parse(pb.receipt).rootHash).toBe(JSON.parse(pa.receipt).rootHash);
    expect(await db.inclusion(77)).toEqual(await file.inclusion(77));
    expect(await db.consistency(13, 140)).toEqual(await file.consistency(13, 140));
    const filters: ListFilter[] = [
      { kinds: ['decision'] },
      { kinds: ['decision', 'simulation', 'refusal'], provider: 'fiod' },
      { kinds: ['decision', 'simulation'], recipient: 'douane', decision: 'deny' },
      { kinds: ['decision'], purpose: 'witwassen', legalBasis: 'awr-67' },
      { kinds: ['decision', 'simulation'], category: 'financieel' },
      { kinds: ['decision', 'simulation'], category: 'logistiek.containers' },
      { kinds: ['decision', 'simulation'], category: 'logistiek.contain' },
      { kinds: ['decision'], rule: 'rule-3' },
      { kinds: ['decision', 'refusal'], callerKey: 'k1' },
      { kinds: ['decision', 'simulation'], caseReference: 'case-4' },
      { kinds: ['decision', 'simulation', 'refusal'], from: Date.parse(a[40]!.at), to: Date.parse(a[90]!.at) },
    ];
    for (const f of filters) expect(await all(db, f), JSON.stringify(f)).toEqual(await all(file, f));
    const period = { from: Date.parse(a[20]!.at), to: Date.parse(a[30]!.at) };
    const inPeriod = async (log: DecisionLog): Promise<number[]> => {
      const seqs = [];
      for await (const e of log.entries(period)) seqs.push(e.seq);
      return seqs;
    };
    expect(await inPeriod(db)).toEqual(await inPeriod(file));
    expect(await db.verify()).toEqual(await file.verify());
    await Promise.all([file.close(), db.close()]);
  });

  it('gives two replicas one gapless order, one chain and one tree, with receipts that all verify', async () => {
    const s = schema();
    const [one, two] = await Promise.all([PgLog.connect(PG_URL as string, { schema: s, signer }), PgLog.connect(PG_URL as string, { schema: s, signer })]);
    const ds = drafts(400, 11);
    const proven = await Promise.all(ds.map((d, i) => ((i % 2 ? one : two) as PgLog).appendProven(d)));
    const seqs = proven.map((p) => p.entry.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    for (const p of proven) expect(verifyReceipt(JSON.parse(p.receipt) as Receipt, vkey.ok ? vkey.value : (undefined as never)).ok).toBe(true);
    expect(await one.verify()).toMatchObject({ ok: true, entries: 400 });
    // the checkpoints both gave out lie on one tree: each later one is consistent with each earlier
    const receipts = proven.map((p) => JSON.parse(p.receipt) as Receipt).sort((x, y) => x.treeSize - y.treeSize);
    const [small, large] = [receipts[3] as Receipt, receipts[390] as Receipt];
    const proof = (await two.consistency(small.treeSize, large.treeSize)) as string[];
    const b64 = (h: string): Buffer => Buffer.from(h, 'base64');
    expect(verifyConsistency(small.treeSize, large.treeSize, b64(small.rootHash), b64(large.rootHash), proof.map(b64))).toBe(true);
    const inc = await one.inclusion(5);
    expect(inc && verifyInclusion(4, inc.treeSize, b64(inc.leafHash), inc.inclusionProof.map(b64), b64(inc.rootHash))).toBe(true);
    await Promise.all([one.close(), two.close()]);
  });

  it('keeps ids in the order of seq when a replica\'s clock runs an hour behind', async () => {
    const s = schema();
    const [ahead, behind] = await Promise.all([PgLog.connect(PG_URL as string, { schema: s, signer }), PgLog.connect(PG_URL as string, { schema: s, signer })]);
    const refusal = (id: string, at: number): EntryDraft => ({ kind: 'refusal', id, at: new Date(at).toISOString(), caller: { keyId: 'k', role: 'auditor' }, route: 'GET /v1/decisions', status: 400, errors: [] });
    const clock = (skew: number) => () => Date.now() + skew;
    const [now, late] = [clock(0), clock(-3_600_000)];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) await ahead.append(refusal(ahead.newId(now()), now()));
      // the replica behind hears of the others' entries within a second, without writing itself
      await new Promise((r) => setTimeout(r, 1200));
      for (let i = 0; i < 5; i++) await behind.append(refusal(behind.newId(late()), late()));
    }
    const ids: string[] = [];
    for await (const e of ahead.entries()) ids.push(e.id);
    expect(ids).toHaveLength(30);
    expect(ids).toEqual([...ids].sort());
    await Promise.all([ahead.close(), behind.close()]);
  });

  it('records a refused body that holds NUL characters, which PostgreSQL text cannot, without failing the batch it is in', async () => {
    const log = await PgLog.connect(PG_URL as string, { schema: schema(), signer });
    const nul = '\u0000';
    const hostile: EntryDraft = { kind: 'refusal', id: log.newId(Date.now()), at: new Date().toISOString(), caller: { keyId: 'k', role: 'partner', partner: 'fiod' }, route: 'POST /v1/decisions', status: 400, errors: [], request: { provider: nul, recipient: `a${nul}`, dataCategories: [nul, 'x'], purpose: nul, caseReference: nul } };
    const [bad, good] = await Promise.all([log.append(hostile), log.append(drafts(1, 1)[0] as EntryDraft)]);
    expect(await log.get(bad.id)).toMatchObject({ request: (hostile as { request: unknown }).request });
    expect((await log.get(good.id))?.seq).toBe(good.seq);
    expect((await log.list({ kinds: ['refusal'], category: 'x' }, { limit: 5 })).items.map((e) => e.id)).toEqual([bad.id]);
    expect(await log.verify()).toMatchObject({ ok: true, entries: 2 });
    await log.close();
  });

  it('prunes by retention: the content goes, every proof stays valid, the rest still verifies and receipts of it still check', async () => {
    const s = schema();
    const log = await PgLog.connect(PG_URL as string, { schema: s, signer });
    const ds = drafts(60, 5);
    const proven = [];
    for (const d of ds) proven.push(await log.appendProven(d));
    const receipts = proven.map((p) => JSON.parse(p.receipt) as Receipt);
    const cutoff = Date.parse(ds[30]!.at);
    const r = await log.prune(cutoff);
    expect(r.entries).toBe(30);
    expect(await log.prune(cutoff)).toEqual({ segments: 0, entries: 0 });
    // who asked what about whom is gone from the database, not just hidden
    const left = await admin?.query(`select count(*)::int as n from "${s}".log_entries where seq <= 30 and (line is not null or provider is not null or categories is not null)`);
    expect(left?.rows[0].n).toBe(0);
    expect(await log.get(ds[3]!.id)).toBeUndefined();
    expect(await log.verify()).toMatchObject({ ok: true, entries: 30, pruned: { count: 30, seq: 30 } });
    const seqs = [];
    for await (const e of log.entries()) seqs.push(e.seq);
    expect(seqs[0]).toBe(31);
    // a pruned entry's inclusion proof, from the leaf that was kept, to the latest root
    const old = await log.appendProven(drafts(61, 5)[60] as EntryDraft);
    const proof = await log.inclusion(4);
    const b64 = (h: string): Buffer => Buffer.from(h, 'base64');
    expect(proof && verifyInclusion(3, proof.treeSize, b64(proof.leafHash), proof.inclusionProof.map(b64), b64(proof.rootHash))).toBe(true);
    expect(proof?.treeSize).toBe(JSON.parse(old.receipt).treeSize);
    // every receipt agrees with the log after the pruned prefix (those of pruned entries cannot be checked)
    const anchors = receipts.flatMap((x) => receiptAnchors(x, vkey.ok ? vkey.value : (undefined as never), `receipt ${x.seq}`) as Anchor[]);
    const { prefix, leaves } = await log.leaves();
    const checked = await checkAnchors(leaves, anchors, prefix);
    expect(checked).toMatchObject({ ok: true });
    expect(checked.ok && checked.unverifiable).toBeGreaterThan(0);
    // a pruned entry's kept leaf, changed, is noticed
    await admin?.query(`update "${s}".log_entries set leaf = (select leaf from "${s}".log_entries where seq = 40) where seq = 7`);
    expect(await log.verify()).toMatchObject({ ok: false, firstBad: { problem: 'altered', seq: 30 } });
    await log.close();
  });

  it('keeps one chain when two replicas take turns, each finding the head moved by the other', async () => {
    const s = schema();
    const [a, b] = await Promise.all([PgLog.connect(PG_URL as string, { schema: s, signer }), PgLog.connect(PG_URL as string, { schema: s, signer })]);
    const ds = drafts(60, 9);
    const receipts: Receipt[] = [];
    // runs of three by turns: each run starts from a head the other replica moved
    for (let i = 0; i < ds.length; i++) receipts.push(JSON.parse((await (Math.floor(i / 3) % 2 ? b : a).appendProven(ds[i] as EntryDraft)).receipt) as Receipt);
    expect(receipts.map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    for (const r of receipts) expect(verifyReceipt(r, vkey.ok ? vkey.value : (undefined as never)).ok).toBe(true);
    expect(await a.verify()).toMatchObject({ ok: true, entries: 60 });
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses a replica that signs with another key than the log was first signed with', async () => {
    const s = schema();
    const first = await PgLog.connect(PG_URL as string, { schema: s, signer });
    await first.close();
    await expect(PgLog.connect(PG_URL as string, { schema: s, signer: signerOf('covenant/other') })).rejects.toThrow(/same --log-key/);
  });

  describe('notices tampering with its tables', () => {
    async function tampered(sql: (s: string) => string): Promise<LogEntry[] | unknown> {
      const s = schema();
      const log = await PgLog.connect(PG_URL as string, { schema: s, signer });
      for (const d of drafts(40, 3)) await log.append(d);
      await admin?.query(sql(`"${s}"`));
      const v = await log.verify();
      await log.close();
      return v;
    }
    it('an entry edited', async () => {
      const v = await tampered((s) => `update ${s}.log_entries set line = replace(line, '"at":"2026', '"at":"2025') where seq = 12`);
      expect(v).toMatchObject({ ok: false, firstBad: { seq: 12, problem: 'altered' } });
    });
    it('an entry removed', async () => {
      expect(await tampered((s) => `delete from ${s}.log_entries where seq = 20`)).toMatchObject({ ok: false, firstBad: { seq: 20, problem: 'out-of-sequence' } });
    });
    it('the tail cut off, the head left', async () => {
      expect(await tampered((s) => `delete from ${s}.log_entries where seq > 35`)).toMatchObject({ ok: false, firstBad: { seq: 36, problem: 'truncated' } });
    });
    it('a leaf replaced, which proofs would use', async () => {
      expect(await tampered((s) => `update ${s}.log_entries set leaf = (select leaf from ${s}.log_entries where seq = 1) where seq = 9`)).toMatchObject({ ok: false, firstBad: { seq: 9, problem: 'altered' } });
    });
    it('a row added past the head: named by verify, shown by no read', async () => {
      const s = schema();
      const log = await PgLog.connect(PG_URL as string, { schema: s, signer });
      for (const d of drafts(40, 3)) await log.append(d);
      const last = (await log.list({ kinds: ['decision', 'refusal', 'simulation', 'policy', 'recovery'] }, { limit: 1 })).items[0] as LogEntry;
      const forged = '01ZZZZZZZZZZZZZZZZZZZZZZZZ';
      await admin?.query(
        `create temp table forged as select * from "${s}".log_entries where seq = ${last.seq};
         update forged set seq = seq + 1, id = '${forged}', line = replace(replace(line, '"seq":${last.seq}', '"seq":${last.seq + 1}'), '${last.id}', '${forged}');
         insert into "${s}".log_entries select * from forged; drop table forged;`,
      );
      expect(await log.verify()).toMatchObject({ ok: false, firstBad: { seq: last.seq + 1, problem: 'altered', message: expect.stringContaining('past the log\'s head') } });
      expect(await log.get(forged)).toBeUndefined();
      expect((await log.list({ kinds: ['decision', 'refusal', 'simulation', 'policy', 'recovery'] }, { limit: 5 })).items[0]?.seq).toBe(last.seq);
      const seqs: number[] = [];
      for await (const e of log.entries()) seqs.push(e.seq);
      expect(seqs.at(-1)).toBe(last.seq);
      await log.close();
    });
    it('reads show only entries known durable: a seq that no flush covered yet stays unseen until one does', async () => {
      const s = schema();
      const log = await PgLog.connect(PG_URL as string, { schema: s, signer });
      const all = ['decision', 'refusal', 'simulation', 'policy', 'recovery'] as const;
      for (const d of drafts(40, 3)) await log.append(d);
      const last = (await log.list({ kinds: [...all] }, { limit: 1 })).items[0] as LogEntry;
      // as entries committed asynchronously look until a flush covers them
      await admin?.query(`update "${s}".log_flush set seq = least(seq, ${last.seq - 10})`);
      expect((await log.list({ kinds: [...all] }, { limit: 1 })).items[0]?.seq).toBe(last.seq - 10);
      expect(await log.get(last.id)).toBeUndefined();
      const seqs: number[] = [];
      for await (const e of log.entries()) seqs.push(e.seq);
      expect(seqs.at(-1)).toBe(last.seq - 10);
      // they are the log's all the same: verify reads up to the head
      expect(await log.verify()).toMatchObject({ ok: true, entries: last.seq });
      const next = drafts(41, 3).at(-1) as Parameters<typeof log.append>[0];
      await log.append(next);
      expect((await log.list({ kinds: [...all] }, { limit: 1 })).items[0]?.seq).toBe(last.seq + 1);
      expect(await log.get(last.id)).toMatchObject({ seq: last.seq });
      await log.close();
    });
    it('reads still show every entry once the replicas that wrote them have stopped', async () => {
      const s = schema();
      const all = ['decision', 'refusal', 'simulation', 'policy', 'recovery'] as const;
      const writer = await PgLog.connect(PG_URL as string, { schema: s, signer });
      for (const d of drafts(12, 5)) await writer.append(d);
      await writer.close();
      const reader = await PgLog.connect(PG_URL as string, { schema: s, readOnly: true });
      expect((await reader.list({ kinds: [...all] }, { limit: 1 })).items[0]?.seq).toBe(12);
      await reader.close();
    });
    it('the checkpoint moved', async () => {
      const v = await tampered((s) => `update ${s}.log_head set checkpoint_root = (select encode(leaf, 'base64') from ${s}.log_entries where seq = 1)`);
      expect(v).toMatchObject({ ok: false, firstBad: { problem: 'altered' } });
    });
  });
});
