// The decision log: the conformance suite every backend must pass, then tamper and crash cases.
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { monotonicFactory } from 'ulid';
import { describe, expect, it } from 'vitest';
import { SegmentLog, logLeaves, verifyDirectory } from '../src/audit/segment-log.js';
import { generateSignerKey, parseSignerKey } from '../src/audit/note.js';
import { checkAnchors, receiptAnchors, type Anchor } from '../src/audit/anchors.js';
import { parseVerifierKey, verifyInclusion, verifyReceipt, type Receipt } from '../src/verifier/receipt.js';
import { draftText } from '../src/audit/chain.js';
import { jsonString } from '../src/domain/json.js';
import type { DecisionLog, EntryDraft, LogEntry, Proven, Verification } from '../src/audit/types.js';
import { ROOT, waitFor } from './helpers.js';
import { PG_URL, schemaFor } from './pg.js';
import { PgLog } from '../src/audit/pg-log.js';

const ulid = monotonicFactory();
const caller = { keyId: 'k1', role: 'partner' as const, partner: 'a' };
let clock = Date.parse('2025-03-01T10:00:00Z');

function draft(i: number, over: Partial<{ provider: string; decision: 'permit' | 'deny'; kind: 'decision' | 'simulation' }> = {}): EntryDraft {
  const t = (clock += 1000);
  const id = ulid(t);
  const request = { provider: over.provider ?? 'a', recipient: 'b', dataCategories: ['c'], purpose: 'p', legalBasis: 'lb' };
  const decision = { decisionId: id, decision: over.decision ?? 'permit', categories: [], reasons: [], obligations: [], nearMisses: [], policyVersion: 'sha256:x', evaluatedAt: new Date(t).toISOString() };
  return { kind: over.kind ?? 'decision', id, at: new Date(t).toISOString(), caller, request, decision, policyVersion: 'sha256:x', ...({ note: i } as object) } as EntryDraft;
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'covenant-log-'));
const segmentFiles = (dir: string): string[] => readdirSync(join(dir, 'segments')).sort().map((f) => join(dir, 'segments', f));
const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const write = (file: string, ls: string[]): void => writeFileSync(file, ls.map((l) => l + '\n').join(''));

async function filled(n: number, options = {}): Promise<{ dir: string; log: SegmentLog; entries: LogEntry[] }> {
  const dir = tmp();
  const log = await SegmentLog.open(dir, options);
  const entries = await Promise.all(Array.from({ length: n }, (_, i) => log.append(draft(i, { provider: i % 2 ? 'a' : 'b', decision: i % 3 ? 'permit' : 'deny' }))));
  return { dir, log, entries };
}

function conformance(name: string, open: (dir: string) => Promise<DecisionLog>): void {
  describe(`${name}: DecisionLog conformance`, () => {
    it('appends in order, with seq counting up and each entry chained to the one before', async () => {
      const log = await open(tmp());
      const entries = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(draft(i))));
      expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      entries.slice(1).forEach((e, i) => expect(e.prevHash).toBe(entries[i]?.hash));
      expect(await log.verify()).toMatchObject({ ok: true, entries: 200 });
      await log.close();
    });

    it('finds an entry by id, and nothing for an unknown id', async () => {
      const log = await open(tmp());
      const entries = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(draft(i))));
      expect(await log.get(entries[17]!.id)).toEqual(entries[17]);
      expect(await log.get(ulid())).toBeUndefined();
      expect(await log.get('not-a-ulid')).toBeUndefined();
      await log.close();
    });

    it('lists newest first with filters and a cursor that visits every match once', async () => {
      const log = await open(tmp());
      const entries = [];
      for (let i = 0; i < 120; i++) entries.push(await log.append(draft(i, { provider: i % 2 ? 'a' : 'b', decision: i % 3 ? 'permit' : 'deny', kind: i % 10 === 0 ? 'simulation' : 'decision' })));
      const want = entries.filter((e) => e.kind === 'decision' && 'request' in e && e.request.provider === 'a' && e.decision.decision === 'deny').reverse();
      const seen: LogEntry[] = [];
      let before: number | undefined;
      do {
        const page = await log.list({ kinds: ['decision'], provider: 'a', decision: 'deny' }, { limit: 7, ...(before !== undefined && { before }) });
        seen.push(...page.items);
        before = page.next;
      } while (before !== undefined);
      expect(seen.map((e) => e.seq)).toEqual(want.map((e) => e.seq));
      const from = Date.parse(entries[100]!.at);
      const recent = await log.list({ kinds: ['decision', 'simulation'], from }, { limit: 1000 });
      expect(recent.items.map((e) => e.seq)).toEqual(entries.slice(100).reverse().map((e) => e.seq));
      await log.close();
    });

    it('keeps every entry across a close and reopen', async () => {
      const dir = tmp();
      const log = await open(dir);
      const first = await Promise.all(Array.from({ length: 30 }, (_, i) => log.append(draft(i))));
      await log.close();
      const again = await open(dir);
      const next = await again.append(draft(31));
      expect(next.seq).toBe(31);
      expect(next.prevHash).toBe(first[29]?.hash);
      expect(await again.verify()).toMatchObject({ ok: true, entries: 31 });
      const streamed = [];
      for await (const e of again.entries()) streamed.push(e.seq);
      expect(streamed).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
      await again.close();
    });
  });
}

conformance('segment log', (dir) => SegmentLog.open(dir));
if (PG_URL) conformance('PostgreSQL log', (dir) => PgLog.connect(PG_URL as string, { schema: schemaFor(dir) }));
conformance('segment log with tiny segments', (dir) => SegmentLog.open(dir, { segmentBytes: 4096 }));

describe('a write the disk takes only in part', () => {
  it('is never acknowledged: every entry acknowledged before the disk filled is there after reopening', async () => {
    const dir = tmp();
    // A file size limit makes the kernel cut the write that crosses it short, as a full disk does.
    const child = spawnSync('sh', ['-c', 'ulimit -f 16 && exec "$0" --import tsx "$1" "$2"', process.execPath, join(ROOT, 'test', 'fixtures', 'append-until-full.ts'), dir], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const { acknowledged, recovered, verified } = JSON.parse(child.stdout) as { acknowledged: string[]; recovered: boolean; verified: boolean };
    // no torn entry left behind while the service would still run: the part written is set aside
    expect(recovered).toBe(true);
    expect(verified).toBe(true);
    expect(readdirSync(join(dir, 'quarantine')).some((f) => f.startsWith('failed-write-'))).toBe(true);
    expect(acknowledged.length).toBeGreaterThan(2);
    expect(acknowledged.length).toBeLessThan(1000);
    const log = await SegmentLog.open(dir);
    for (const id of acknowledged) expect((await log.get(id))?.id).toBe(id);
    expect(await log.verify()).toMatchObject({ ok: true });
    await log.close();
  });
});

describe('a decision serialised once', () => {
  it('is, as text, what JSON.stringify makes of the draft, whatever its strings, whether its caller is frozen and whether it has an origin and approvals', () => {
    // Ids, times and hashes are quoted without JSON.stringify when they need no escape; anything
    // else (quotes, controls, lone surrogates, non-ASCII) must come out exactly as JSON.stringify writes it.
    const text = fc.oneof(fc.string({ unit: 'binary' }), fc.stringMatching(/^[\w .:+-]*$/), fc.constantFrom('"', '\\', '\u2028', '\ud800', 'a\nb'));
    fc.assert(
      fc.property(text, text, text, text, text, fc.boolean(), fc.option(text, { nil: undefined }), fc.option(text, { nil: undefined }), (id, at, keyId, version, partner, frozen, evaluatedAt, from) => {
        expect(jsonString(id)).toBe(JSON.stringify(id));
        const who = { keyId, role: 'partner' as const, ...(partner !== undefined && { partner }) };
        const decision = { decisionId: id, decision: 'deny', categories: [], reasons: [], obligations: [], nearMisses: [], policyVersion: version, evaluatedAt: evaluatedAt ?? at };
        const origin = from === undefined ? {} : { origin: { decisions: [id], providers: [from], categories: [], purposes: [], legalBases: [] } };
        const approvals = from === undefined ? {} : { approvals: [{ id, kind: from }] };
        const d = { kind: 'decision', id, at, caller: frozen ? Object.freeze(who) : who, request: { provider: partner ?? 'a' }, ...origin, ...approvals, decision, policyVersion: version } as unknown as EntryDraft;
        const joined = (t: ReturnType<typeof draftText>): string => (typeof t === 'string' ? t : t.head + Buffer.from(t.decision).toString('utf8') + t.tail);
        expect(joined(draftText(d, Buffer.from(JSON.stringify(decision))))).toBe(JSON.stringify(d));
        expect(joined(draftText(d, Buffer.from(JSON.stringify(decision))))).toBe(JSON.stringify(d)); // the second time, from the caller's cached text
      }),
      { numRuns: 500 },
    );
  });

  it('is stored exactly as JSON.stringify would store the whole entry, and verifies', async () => {
    const drafts = Array.from({ length: 20 }, (_, i) => {
      const { note: __, ...d } = draft(i, { decision: i % 2 ? 'permit' : 'deny' }) as EntryDraft & { note?: number };
      // Some with text beyond ASCII, where a byte count and a character count differ.
      if (i % 3 === 0 && 'decision' in d) return { ...d, decision: { ...d.decision, reasons: [{ code: 'no-permitting-rule', category: 'c', message: { nl: 'één — € 😀', en: 'one — € 😀' } }] } } as EntryDraft;
      return d as EntryDraft;
    });
    const [plain, ready] = [await SegmentLog.open(tmp()), await SegmentLog.open(tmp())];
    for (const d of drafts) {
      const a = await plain.append(d);
      const b = await ready.append(d, 'decision' in d ? Buffer.from(JSON.stringify(d.decision)) : undefined);
      expect(b).toEqual(a);
    }
    expect(readFileSync(segmentFiles(ready['dir'])[0]!, 'utf8')).toBe(readFileSync(segmentFiles(plain['dir'])[0]!, 'utf8'));
    expect(await ready.verify()).toMatchObject({ ok: true, entries: 20 });
    await plain.close();
    await ready.close();
  });
});

/** Fills a log of 40 entries, lets `edit` change its lines in place, and verifies what is left. */
async function firstBadAfter(edit: (ls: string[], entries: LogEntry[]) => void): Promise<Verification['firstBad']> {
  const { dir, log, entries } = await filled(40);
  await log.close();
  const [file] = segmentFiles(dir);
  const ls = lines(file!);
  edit(ls, entries);
  write(file!, ls);
  return (await verifyDirectory(dir)).firstBad;
}

describe('tamper evidence', () => {
  it('names an altered entry', async () => {
    const firstBad = await firstBadAfter((ls) => {
      ls[12] = ls[12]!.replace('"decision":"permit"', '"decision":"deny"').replace('"decision":"deny"', '"decision":"permit"');
    });
    expect(firstBad).toMatchObject({ seq: 13, problem: 'altered' });
  });

  it('names a removed entry', async () => {
    expect(await firstBadAfter((ls) => void ls.splice(20, 1))).toMatchObject({ seq: 21, problem: 'out-of-sequence' });
  });

  it('names an inserted entry, even one with a valid hash of its own', async () => {
    expect(await firstBadAfter((ls, entries) => void ls.splice(10, 0, JSON.stringify(entries[5])))).toMatchObject({ seq: 11, problem: 'out-of-sequence' });
  });

  it('names reordered entries', async () => {
    expect(await firstBadAfter((ls) => void ([ls[30], ls[31]] = [ls[31]!, ls[30]!]))).toMatchObject({ seq: 31, problem: 'out-of-sequence' });
  });

  it('notices entries cut off the end, through the checkpoint', async () => {
    expect(await firstBadAfter((ls) => void ls.splice(35))).toMatchObject({ seq: 36, problem: 'truncated' });
  });

  it('notices a flipped byte anywhere', async () => {
    const { dir, log } = await filled(40);
    await log.close();
    const [file] = segmentFiles(dir);
    const buf = readFileSync(file!);
    const at = Math.floor(buf.length / 2);
    buf[at] = buf[at] === 0x41 ? 0x42 : 0x41;
    writeFileSync(file!, buf);
    expect((await verifyDirectory(dir)).ok).toBe(false);
  });

  it('notices any one changed byte, also where the JSON would still mean the same', async () => {
    // A refused body is recorded as it came, so the log holds escapes (\u0001) and exponents
    // (1e+300): a byte there can change (\u0001 -> \u0001 in upper case, e -> E) without changing
    // what the line parses to. Every byte of a small log is changed in turn, two ways.
    const dir = tmp();
    const log = await SegmentLog.open(dir);
    await log.append(draft(1));
    const t = (clock += 1000);
    await log.append({
      kind: 'refusal',
      id: ulid(t),
      at: new Date(t).toISOString(),
      caller,
      route: 'POST /v1/decisions',
      status: 400,
      errors: [{ path: '', message: 'malformed' }],
      request: { note: 'tab\u0001\u001f', big: 1e300, small: 1e-7, u: '\ud800' },
    } as EntryDraft);
    await log.close();
    const [file] = segmentFiles(dir);
    const original = readFileSync(file!);
    expect(original.toString()).toMatch(/\\u001f[^\n]*1e\+300/);
    const unnoticed: string[] = [];
    for (let at = 0; at < original.length; at++) {
      for (const mask of [0x20, 0x01]) {
        const buf = Buffer.from(original);
        buf[at]! ^= mask;
        writeFileSync(file!, buf);
        if ((await verifyDirectory(dir)).ok) unnoticed.push(`byte ${at} (${String.fromCharCode(original[at]!)}) ^ ${mask}`);
      }
    }
    writeFileSync(file!, original);
    expect(unnoticed).toEqual([]);
    expect((await verifyDirectory(dir)).ok).toBe(true);
  });
});

describe('tamper evidence, as a law', () => {
  it('notices any changed byte of a log of refusals whose bodies are any JSON at all', async () => {
    // Refused bodies are recorded as they came, so they are where unusual JSON meets the chain.
    const dir = tmp();
    const log = await SegmentLog.open(dir);
    const bodies = fc.sample(fc.jsonValue({ maxDepth: 4 }), { numRuns: 40, seed: 20261123 });
    for (const request of bodies) {
      const t = (clock += 1000);
      await log.append({ kind: 'refusal', id: ulid(t), at: new Date(t).toISOString(), caller, route: 'POST /v1/decisions', status: 400, errors: [], request } as EntryDraft);
    }
    await log.close();
    expect((await verifyDirectory(dir)).ok).toBe(true);
    const [file] = segmentFiles(dir);
    const original = readFileSync(file!);
    // Besides any byte: the bytes where a change can keep the meaning (an escape's hex digits, an exponent's e).
    const text = original.toString('latin1');
    const subtle = [...text.matchAll(/\\u[0-9a-f]{4}|\d[eE][+-]?\d/g)].flatMap((m) => [1, 2, 3, 4, 5].map((k) => m.index + k).filter((i) => i < text.length));
    expect(subtle.length).toBeGreaterThan(0);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.nat({ max: original.length - 1 }), fc.constantFrom(...subtle)), fc.oneof(fc.constant(0x20), fc.integer({ min: 1, max: 255 })), async (at, mask) => {
        const changed = Buffer.from(original);
        changed[at]! ^= mask;
        writeFileSync(file!, changed);
        expect((await verifyDirectory(dir)).ok).toBe(false);
      }),
      { numRuns: 300, seed: 20261123 },
    );
    writeFileSync(file!, original);
    expect((await verifyDirectory(dir)).ok).toBe(true);
  });
});

describe('a torn last entry after a crash', () => {
  it('is reported by verify, then set aside at open and recorded, never dropped silently', async () => {
    const { dir, log } = await filled(10);
    await log.close();
    const [file] = segmentFiles(dir);
    appendFileSync(file!, '{"kind":"decision","id":"01JD');
    expect((await verifyDirectory(dir)).ok).toBe(false);
    const reopened = await SegmentLog.open(dir);
    // named relative to the log folder: the server's own paths stay out of the log
    expect(reopened.recovery).toMatchObject({ bytes: 29, file: expect.stringMatching(/^segments\/\d+\.ndjson$/), quarantinedTo: expect.stringMatching(/^quarantine\/torn-\d+\.bin$/) });
    expect(readFileSync(join(dir, reopened.recovery!.quarantinedTo), 'utf8')).toBe('{"kind":"decision","id":"01JD');
    const page = await reopened.list({ kinds: ['recovery'] }, { limit: 10 });
    expect(page.items).toEqual([expect.objectContaining({ seq: 11, kind: 'recovery', detail: expect.objectContaining({ bytes: 29 }) })]);
    expect(await reopened.verify()).toMatchObject({ ok: true, entries: 11 });
    await reopened.close();
  });
});

describe('retention', () => {
  it('prunes old segments and still proves the rest complete and unaltered', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir, { segmentBytes: 2048 });
    const entries: LogEntry[] = [];
    for (let i = 0; i < 60; i++) entries.push(await log.append(draft(i)));
    const cutoff = Date.parse(entries[30]!.at);
    const before = segmentFiles(dir).length;
    const r = await log.prune(cutoff);
    expect(r.segments).toBeGreaterThan(0);
    expect(segmentFiles(dir).length).toBe(before - r.segments);
    const v = await log.verify();
    expect(v).toMatchObject({ ok: true, pruned: { count: r.entries, seq: r.entries }, entries: 60 - r.entries });
    const remaining = [];
    for await (const e of log.entries()) remaining.push(e.seq);
    expect(remaining[0]).toBe(r.entries + 1);
    expect(Date.parse(entries[r.entries - 1]!.at)).toBeLessThan(cutoff);
    await log.append(draft(61));
    await log.close();
    expect((await verifyDirectory(dir)).ok).toBe(true);

    // removing the oldest remaining segment is not retention: verify names it
    const [oldest] = segmentFiles(dir);
    writeFileSync(oldest!, '');
    expect((await verifyDirectory(dir)).firstBad).toMatchObject({ problem: 'out-of-sequence', seq: r.entries + 1 });
  });
});

describe('retention with the Merkle tree', () => {
  it('keeps every proof valid: pruned entries still have inclusion proofs, and receipts of the rest still check against the log', async () => {
    const key = parseSignerKey(generateSignerKey('covenant.test/log'));
    if (!key.ok) throw new Error(key.reason);
    const vkey = parseVerifierKey(key.signer.verifierKey);
    if (!vkey.ok) throw new Error(vkey.reason);
    const dir = tmp();
    const log = await SegmentLog.open(dir, { segmentBytes: 2048, signer: key.signer });
    const proven: Proven[] = [];
    for (let i = 0; i < 60; i++) proven.push(await log.appendProven(draft(i)));
    const receipts = proven.map((p) => JSON.parse(p.receipt) as Receipt);
    for (const r of receipts) expect(verifyReceipt(r, vkey.value).ok).toBe(true);
    const r = await log.prune(Date.parse(proven[30]!.entry.at));
    expect(r.entries).toBeGreaterThan(0);
    await log.close();
    const again = await SegmentLog.open(dir, { segmentBytes: 2048, signer: key.signer });
    await again.appendProven(draft(61));
    // a pruned entry's proof, from the tree that kept its hash, to the latest signed root
    const old = await again.inclusion(1);
    expect(old && verifyInclusion(0, old.treeSize, Buffer.from(old.leafHash, 'base64'), old.inclusionProof.map((h) => Buffer.from(h, 'base64')), Buffer.from(old.rootHash, 'base64'))).toBe(true);
    expect(old?.leafHash).toBe(receipts[0]?.leafHash);
    await again.close();
    // the log after the pruned prefix, checked against every receipt (those of pruned entries cannot be)
    const anchors = receipts.flatMap((x) => receiptAnchors(x, vkey.value, `receipt ${x.seq}`) as Anchor[]);
    const { prefix, leaves } = await logLeaves(dir);
    const result = await checkAnchors(leaves, anchors, prefix);
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.unverifiable).toBeGreaterThan(0);
    // and a remaining entry changed (with its chain and manifest rebuilt or not) disagrees
    const [first] = segmentFiles(dir);
    const ls = lines(first!);
    ls[0] = ls[0]!.replace('"decision":"permit"', '"decision":"deny"');
    write(first!, ls);
    const tampered = await logLeaves(dir);
    const bad = await checkAnchors(tampered.leaves, anchors, tampered.prefix);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.firstBad.seq).toBe(r.entries + 1);
  });
});

describe('an entry whose content carries a seq of its own', () => {
  it('is never taken for the checkpointed entry or for a pruned one', async () => {
    // A refused body is recorded as it came, so a caller can put `"seq":N,` into the log.
    const dir = tmp();
    const log = await SegmentLog.open(dir, { segmentBytes: 2048 });
    const refusal = (request: object): EntryDraft => {
      const t = (clock += 1000);
      return { kind: 'refusal', id: ulid(t), at: new Date(t).toISOString(), caller, route: 'POST /v1/decisions', status: 400, errors: [], request } as EntryDraft;
    };
    const entries: LogEntry[] = [];
    for (let i = 0; i < 30; i++) entries.push(await log.append(i === 5 ? refusal({ seq: 40, prevHash: 'x' }) : i === 28 ? refusal({ seq: 0 }) : draft(i)));
    for (let i = 30; i < 40; i++) entries.push(await log.append(draft(i)));
    await log.close();
    // the checkpoint names seq 40; entry 6 says `"seq":40,` too, in its request
    expect(await verifyDirectory(dir)).toMatchObject({ ok: true, entries: 40 });

    const again = await SegmentLog.open(dir, { segmentBytes: 2048 });
    const r = await again.prune(Date.parse(entries[20]!.at));
    expect(r.entries).toBeGreaterThan(0);
    await again.close();
    // entry 29 says `"seq":0,`, which is within the pruned prefix
    expect(await verifyDirectory(dir)).toMatchObject({ ok: true, entries: 40 - r.entries });
  });
});

describe('reading a period', () => {
  it('returns exactly the entries in the period, seeking into large segments', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir, { segmentBytes: 400_000 });
    const all: LogEntry[] = [];
    for (let i = 0; i < 3000; i += 500) all.push(...(await Promise.all(Array.from({ length: 500 }, (_, j) => log.append(draft(i + j))))));
    expect(segmentFiles(dir).length).toBeGreaterThan(2);
    for (const [a, b] of [[100, 200], [0, 2999], [1234, 2500], [2990, 2999], [700, 700]] as const) {
      const from = Date.parse(all[a]!.at);
      const to = Date.parse(all[b]!.at);
      const got = [];
      for await (const e of log.entries({ from, to })) got.push(e.seq);
      expect(got).toEqual(all.slice(a, b + 1).map((e) => e.seq));
    }
    for (const i of [0, 1, 777, 1500, 2999]) expect((await log.get(all[i]!.id))?.seq).toBe(all[i]!.seq);
    await log.close();
  });
});

describe('a manifest that cannot be written', () => {
  it('is said at once (checkpointError, onFailure) rather than the checkpoint silently stopping, and heals when it can be written again', async () => {
    const { mkdirSync, rmSync } = await import('node:fs');
    const dir = tmp();
    const failures: string[] = [];
    let recovered = 0;
    const log = await SegmentLog.open(dir, { checkpointMs: 50, onFailure: (e) => failures.push(e.message), onRecovered: () => recovered++ });
    try {
      await log.append(draft(1));
      const { existsSync } = await import('node:fs');
      await waitFor(async () => (existsSync(join(dir, 'manifest.json')) ? true : undefined));
      // the manifest's place taken (as a folder made read-only would refuse it, also to root)
      rmSync(join(dir, 'manifest.json'));
      mkdirSync(join(dir, 'manifest.json'));
      await log.append(draft(2));
      await waitFor(async () => log.checkpointError());
      expect(failures).toHaveLength(1);
      rmSync(join(dir, 'manifest.json'), { recursive: true });
      await log.append(draft(3));
      await waitFor(async () => (log.checkpointError() === undefined ? true : undefined));
      expect(recovered).toBe(1);
      expect(log.writable()).toBe(true);
    } finally {
      await log.close();
    }
    expect(await verifyDirectory(dir)).toMatchObject({ ok: true, entries: 3 });
  });
});
