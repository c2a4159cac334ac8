// The attacks a verifiable log exists for, through real processes and files: an operator (or an
// intruder in the data folder) who rewrites the log and everything that seals it. The hash chain
// alone passes such a log; receipts that partners hold, and checkpoints a witness accepted, do not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { lineBound, sealInto } from '../src/audit/chain.js';
import { KeyStore } from '../src/keys/store.js';
import { dataPaths } from '../src/data-paths.js';
import { cli } from './helpers.js';
import { exampleRequest, serveProcess } from './server-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'covenant-verifiable-'));
const logKeyFile = join(work, 'log.key');
let vkey = '';
let partnerKey = '';
let auditorKeyFile = '';

const denied = { ...exampleRequest, recipient: 'douane' };
/** the decision that the attack turns from a deny into a permit (the log's first entry records the policy going live) */
const FLIPPED = 4;
let flippedSeq = 0;

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise((r) => {
    child.once('exit', r);
    child.kill('SIGTERM');
  });
}

/** A decision as a partner asks for it; `?receipt=full` ties the receipt to the answer. */
async function decide(url: string, body: object, query = '?receipt=full'): Promise<{ text: string; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${url}/v1/decisions${query}`, { method: 'POST', headers: { authorization: `Bearer ${partnerKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  expect(res.status).toBe(200);
  return { text, json: JSON.parse(text) };
}

const witness = (state: string, url: string, key = vkey) => cli(['witness', '--url', url, '--log-key', key, '--state', state, '--api-key-file', auditorKeyFile, '--once']);

/**
 * Rewrites a stopped service's log as an operator with full access would: edits entries, then
 * re-chains every line, drops the tree (the service rebuilds it) and reseals the manifest.
 */
function rewrite(dataDir: string, edit: (entries: Record<string, unknown>[]) => Record<string, unknown>[]): void {
  const logDir = dataPaths(dataDir).log;
  const segDir = join(logDir, 'segments');
  const [segment, ...more] = readdirSync(segDir);
  expect(more).toEqual([]);
  const lines = readFileSync(join(segDir, segment as string), 'utf8').split('\n').filter(Boolean);
  const entries = edit(lines.map((l) => {
    const { seq: _s, prevHash: _p, hash: _h, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return rest;
  }));
  let prev = `sha256:${'0'.repeat(64)}`;
  const out: string[] = [];
  entries.forEach((e, i) => {
    const text = JSON.stringify(e);
    const buf = Buffer.alloc(lineBound(text, prev));
    const sealed = sealInto(buf, 0, text, i + 1, prev);
    out.push(buf.subarray(0, sealed.end).toString('utf8'));
    prev = sealed.hash;
  });
  writeFileSync(join(segDir, segment as string), out.join(''));
  rmSync(join(logDir, 'tree.hashes'), { force: true });
  const checkpoint = { seq: entries.length, hash: prev, at: new Date().toISOString() };
  const digest = `sha256:${createHash('sha256').update(JSON.stringify({ checkpoint, pruned: null })).digest('hex')}`;
  writeFileSync(join(logDir, 'manifest.json'), JSON.stringify({ checkpoint, sha256: digest }, null, 2));
}

const flip = (entries: Record<string, unknown>[]) =>
  entries.map((e, i) => (i === flippedSeq - 1 ? { ...e, decision: { ...(e.decision as object), decision: 'permit' } } : e));

describe('a verifiable log', () => {
  const dataDir = join(work, 'data');
  const witnessState = join(work, 'witness');
  const answers: { text: string; json: any }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  let url = '';

  beforeAll(async () => {
    const init = cli(['log-key', 'init', logKeyFile, '--name', 'covenant.test/nsoc']);
    expect(init.status).toBe(0);
    vkey = init.stdout.trim();
    const store = await KeyStore.open(dataPaths(dataDir).keys);
    partnerKey = (await store.add({ role: 'partner', partner: 'belastingdienst' }, new Date())).key;
    auditorKeyFile = join(work, 'auditor.key');
    writeFileSync(auditorKeyFile, (await store.add({ role: 'auditor' }, new Date())).key);
    const served = await serveProcess(dataDir, ['--log-key', logKeyFile]);
    url = served.url;
    // one decision at a time, the witness looking after each: every tree size is witnessed
    for (let i = 1; i <= 8; i++) {
      answers.push(await decide(url, i === FLIPPED ? denied : exampleRequest, i === 2 ? '' : '?receipt=full'));
      expect(witness(witnessState, url).status).toBe(0);
    }
    await stop(served.child);
    expect(answers[FLIPPED - 1]?.json.decision).toBe('deny');
    flippedSeq = answers[FLIPPED - 1]?.json.receipt.seq;
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('gives every answer a receipt that verifies offline against the pinned key, tied to that answer', () => {
    const files = answers.map((a, i) => {
      const f = join(work, `answer-${i + 1}.json`);
      writeFileSync(f, a.text);
      return f;
    });
    const ok = cli(['audit', 'verify-receipt', ...files, '--log-key', vkey]);
    expect(ok.stdout).toContain('valid: ');
    expect(ok.status).toBe(0);
    // an answer whose decision was changed no longer matches its receipt
    const forged = join(work, 'forged.json');
    writeFileSync(forged, (answers[FLIPPED - 1] as { text: string }).text.replace('"decision":"deny"', '"decision":"permit"'));
    const bad = cli(['audit', 'verify-receipt', forged, '--log-key', vkey]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/not for this answer/);
    // without ?receipt=full the receipt is valid but says it is not tied to the answer
    const plain = join(work, 'plain.json');
    writeFileSync(plain, (answers[1] as { text: string }).text);
    const untied = cli(['audit', 'verify-receipt', plain, '--log-key', vkey]);
    expect(untied.status).toBe(0);
    expect(untied.stdout).toContain('not tied to the answer');
    expect(answers[1]?.json.receipt).not.toHaveProperty('entry');
    expect(ok.stdout).toContain(', and holds this answer');
    // another log's key does not verify it
    const other = cli(['log-key', 'init', join(work, 'other.key'), '--name', 'covenant.test/nsoc']).stdout.trim();
    expect(cli(['audit', 'verify-receipt', files[0] as string, '--log-key', other]).status).toBe(1);
  });

  it('(a) a deny flipped to a permit, re-chained and resealed, passes the chain but not the receipts or the witness', () => {
    const copy = join(work, 'attack-a');
    cpSync(dataDir, copy, { recursive: true });
    rewrite(copy, flip);
    // the gap this closes: the chain and the manifest alone say intact
    expect(cli(['audit', 'verify', '--data', copy]).status).toBe(0);
    // receipts issued after the flipped entry (and one before)
    const receipts = join(work, 'receipts-a.json');
    writeFileSync(receipts, JSON.stringify(answers.filter((_, i) => i + 1 !== FLIPPED).map((a) => a.json.receipt)));
    const r = cli(['audit', 'verify', '--data', copy, '--receipts', receipts, '--log-key', vkey]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`first entry that disagrees: ${flippedSeq}\n`);
    const w = cli(['audit', 'verify', '--data', copy, '--witness', witnessState]);
    expect(w.status).toBe(1);
    expect(w.stdout).toContain(`first entry that disagrees: ${flippedSeq}\n`);
    // a receipt of a later entry alone narrows it down to a range that holds it
    const one = join(work, 'receipt-last.json');
    writeFileSync(one, JSON.stringify(answers[7]?.json.receipt));
    const alone = cli(['audit', 'verify', '--data', copy, '--receipts', one, '--log-key', vkey]);
    expect(alone.status).toBe(1);
    const named = Number(/first entry that disagrees: (\d+)/.exec(alone.stdout)?.[1]);
    expect(named).toBeGreaterThan(0);
    expect(named).toBeLessThanOrEqual(flippedSeq);
  });

  it('keeps, in the witness state, each checkpoint with the witness\'s own cosignature (C2SP tlog-cosignature), and checks it', async () => {
    const { witnessKey, witnessed } = await import('../src/audit/witness.js');
    const { cosignedAt } = await import('../src/audit/note.js');
    const key = await witnessKey(witnessState);
    const kept = await witnessed(witnessState);
    expect(kept.length).toBeGreaterThanOrEqual(8);
    for (const w of kept) expect(cosignedAt(w.note, key!)).toBeGreaterThan(0);
    // a state whose cosignatures were taken off is not trusted: its checkpoints are not used
    const stripped = join(work, 'witness-stripped');
    cpSync(witnessState, stripped, { recursive: true });
    const lines = readFileSync(join(stripped, 'checkpoints.ndjson'), 'utf8').split('\n').filter(Boolean);
    writeFileSync(join(stripped, 'checkpoints.ndjson'), lines.map((l) => {
      const w = JSON.parse(l) as { note: string };
      return JSON.stringify({ ...w, note: w.note.split('\n').filter((x) => !x.startsWith('\u2014 witness')).join('\n') });
    }).join('\n') + '\n');
    const r = cli(['audit', 'verify', '--data', dataDir, '--witness', stripped]);
    expect(r.stderr).toMatch(/does not carry the witness's cosignature/);
  });

  it('(b) entries cut off the end and the log resealed: detected', () => {
    const copy = join(work, 'attack-b');
    cpSync(dataDir, copy, { recursive: true });
    rewrite(copy, (entries) => entries.slice(0, entries.length - 2));
    expect(cli(['audit', 'verify', '--data', copy]).status).toBe(0);
    const r = cli(['audit', 'verify', '--data', copy, '--witness', witnessState]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/removed from the end/);
  });

  it('(c) the log re-signed with a new key: the witness and the partners refuse it (the key is pinned)', async () => {
    const copy = join(work, 'attack-c');
    cpSync(dataDir, copy, { recursive: true });
    rewrite(copy, flip);
    const newKey = join(work, 'new.key');
    const made = cli(['log-key', 'init', newKey, '--name', 'covenant.test/nsoc']);
    expect(made.status).toBe(0);
    const newVkey = made.stdout.trim();
    const served = await serveProcess(copy, ['--log-key', newKey]);
    try {
      const answer = await decide(served.url, exampleRequest);
      const f = join(work, 'resigned.json');
      writeFileSync(f, answer.text);
      const v = cli(['audit', 'verify-receipt', f, '--log-key', vkey]);
      expect(v.status).toBe(1);
      expect(v.stdout).toMatch(/not signed by the log key/);
      // a witness that starts afresh with the new key sees nothing wrong: pinning is what catches it
      expect(witness(join(work, 'witness-c'), served.url, newVkey).status).toBe(0);
      // the witness that pinned the old key raises the alarm
      const pinnedState = join(work, 'witness-c-pinned');
      cpSync(witnessState, pinnedState, { recursive: true });
      const alarm = witness(pinnedState, served.url);
      expect(alarm.status).toBe(1);
      expect(alarm.stderr).toMatch(/ALERT: the checkpoint is not valid: not signed by the log key/);
      expect(readFileSync(join(pinnedState, 'witness.prom'), 'utf8')).toMatch(/covenant_witness_failures_total 1/);
      // and a witness started with the new key refuses to replace the one it pinned
      expect(witness(pinnedState, served.url, newVkey).stderr).toMatch(/not the one this witness pinned/);
    } finally {
      await stop(served.child);
    }
  });

  it('(d) two different logs shown to two partners: their receipts contradict each other, and the witness sees the fork', async () => {
    const forkA = join(work, 'fork-a');
    const forkB = join(work, 'fork-b');
    cpSync(dataDir, forkA, { recursive: true });
    cpSync(dataDir, forkB, { recursive: true });
    const a = await serveProcess(forkA, ['--log-key', logKeyFile]);
    const one = await decide(a.url, exampleRequest);
    const witnessedA = join(work, 'witness-d');
    cpSync(witnessState, witnessedA, { recursive: true });
    expect(witness(witnessedA, a.url).status).toBe(0);
    await stop(a.child);
    const b = await serveProcess(forkB, ['--log-key', logKeyFile]);
    try {
      const other = await decide(b.url, denied);
      const [f1, f2] = [join(work, 'partner-1.json'), join(work, 'partner-2.json')];
      writeFileSync(f1, one.text);
      writeFileSync(f2, other.text);
      expect(cli(['audit', 'verify-receipt', f1, '--log-key', vkey]).status).toBe(0);
      expect(cli(['audit', 'verify-receipt', f2, '--log-key', vkey]).status).toBe(0);
      const together = cli(['audit', 'verify-receipt', f1, f2, '--log-key', vkey]);
      expect(together.status).toBe(1);
      expect(together.stdout).toMatch(/two histories/);
      const alarm = witness(witnessedA, b.url);
      expect(alarm.status).toBe(1);
      expect(alarm.stderr).toMatch(/ALERT: two different trees of \d+ entries/);
    } finally {
      await stop(b.child);
    }
  });

  it('serves the verifier key without an API key, and proofs to any caller that may see the entry', async () => {
    const served = await serveProcess(dataDir, ['--log-key', logKeyFile]);
    try {
      const keyRes = await fetch(`${served.url}/v1/audit/log-key`);
      expect(keyRes.headers.get('content-type')).toMatch(/^text\/plain/);
      expect((await keyRes.text()).trim()).toBe(vkey);
      const auth = { authorization: `Bearer ${partnerKey}` };
      const cp = await fetch(`${served.url}/v1/audit/checkpoint`, { headers: auth });
      expect(await cp.text()).toMatch(/^covenant\.test\/nsoc\n\d+\n[A-Za-z0-9+/]{43}=\n\n\u2014 covenant\.test\/nsoc /u);
      const first = answers[0]?.json;
      const inc = (await (await fetch(`${served.url}/v1/audit/inclusion?id=${first.decisionId}`, { headers: auth })).json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(inc).toMatchObject({ seq: first.receipt.seq, leafHash: first.receipt.leafHash, entry: first.receipt.entry });
      const f = join(work, 'fresh-proof.json');
      writeFileSync(f, JSON.stringify(inc));
      expect(cli(['audit', 'verify-receipt', f, '--log-key', vkey]).status).toBe(0);
      const cons = (await (await fetch(`${served.url}/v1/audit/consistency?from=3&to=${inc.treeSize}`, { headers: auth })).json()) as { proof: string[] };
      expect(cons.proof.length).toBeGreaterThan(0);
      expect((await fetch(`${served.url}/v1/audit/consistency?from=3&to=100000`, { headers: auth })).status).toBe(404);
      expect((await fetch(`${served.url}/v1/audit/consistency?from=0`, { headers: auth })).status).toBe(400);
      expect((await fetch(`${served.url}/v1/audit/checkpoint`)).status).toBe(401);
      // a query the decision route does not know is refused
      const odd = await fetch(`${served.url}/v1/decisions?receipt=half`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(exampleRequest) });
      expect(odd.status).toBe(400);
    } finally {
      await stop(served.child);
    }
  });
});
