// A witness: runs apart from the service (on another machine, under another operator), fetches
// the log's checkpoints, accepts one only if the pinned log key signed it and it extends the last
// one accepted (a consistency proof), cosigns it (C2SP tlog-cosignature) and keeps it. What a
// witness kept, the operator can no longer rewrite unnoticed: `covenant audit verify --witness`.
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint, verifyConsistency, type Checkpoint, type VerifierKey } from '../verifier/receipt.js';
import { generateSignerKey, parseCosignerKey, parseSignerKey, type NoteSigner } from './note.js';
import { makeDir, writeDurably } from '../small-state.js';

export interface Witnessed {
  readonly size: number;
  readonly rootHash: string;
  /** when it was accepted, ISO */
  readonly at: string;
  /** the log's signed note with the witness's cosignature added */
  readonly note: string;
}

export interface WitnessState {
  readonly dir: string;
  readonly signer: NoteSigner;
  readonly logKey: string;
  last: Witnessed | undefined;
}

export type Outcome =
  | { readonly kind: 'accepted'; readonly checkpoint: Witnessed }
  | { readonly kind: 'unchanged'; readonly size: number }
  | { readonly kind: 'bad'; readonly reason: string };

const files = (dir: string) => ({ key: join(dir, 'witness-key'), logKey: join(dir, 'log-key'), checkpoints: join(dir, 'checkpoints.ndjson'), metrics: join(dir, 'witness.prom') });

/**
 * Opens a witness's state, making it on the first run. The log key is pinned then: a later run
 * with another key is refused, since that is what re-signing a rewritten log would look like.
 */
export async function openWitness(dir: string, logKey: string, name = `witness/${hostname().replace(/[\s+]/g, '-') || 'w'}`): Promise<WitnessState | string> {
  const f = files(dir);
  await makeDir(dir);
  if (!(await exists(f.key))) await writeDurably(f.key, `${generateSignerKey(name)}\n`, 0o600);
  const parsed = parseSignerKey(await readFile(f.key, 'utf8'), 'witness');
  if (!parsed.ok) return `${f.key}: ${parsed.reason}`;
  if (await exists(f.logKey)) {
    const pinned = (await readFile(f.logKey, 'utf8')).trim();
    if (pinned !== logKey.trim()) return `the log key given is not the one this witness pinned (${pinned}): a log that changes its key could be re-signing a rewritten log`;
  } else await writeDurably(f.logKey, `${logKey.trim()}\n`);
  return { dir, signer: parsed.signer, logKey: logKey.trim(), last: (await witnessed(dir)).at(-1) };
}

/** Every checkpoint a witness accepted, oldest first. */
export async function witnessed(dir: string): Promise<Witnessed[]> {
  const text = await readFile(files(dir).checkpoints, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Witnessed);
}

/** The witness's own cosigning key (public part), from its state, if it has one. */
export async function witnessKey(dir: string): Promise<ReturnType<typeof parseCosignerKey> & { ok: true } | undefined> {
  const text = await readFile(files(dir).key, 'utf8').catch(() => undefined);
  const signer = text === undefined ? undefined : parseSignerKey(text, 'witness');
  if (!signer?.ok) return undefined;
  const key = parseCosignerKey(signer.signer.verifierKey);
  return key.ok ? key : undefined;
}

/** The pinned log key of a witness's state, if it has one. */
export async function pinnedLogKey(dir: string): Promise<string | undefined> {
  return readFile(files(dir).logKey, 'utf8').then((t) => t.trim(), () => undefined);
}

/**
 * Judges a checkpoint note fetched from the log. `consistency` fetches the proof from the last
 * accepted size to the new one (base64 hashes).
 */
export async function observe(state: WitnessState, key: VerifierKey, note: string, consistency: (from: number, to: number) => Promise<string[]>, now: number): Promise<Outcome> {
  const cp = openCheckpoint(note, key);
  if (!cp.ok) return { kind: 'bad', reason: `the checkpoint is not valid: ${cp.reason}` };
  const last = state.last;
  if (last && cp.value.size < last.size) return { kind: 'bad', reason: `the log shrank: it showed ${last.size} entries before and now ${cp.value.size}` };
  if (last && cp.value.size === last.size) {
    if (cp.value.rootHash !== last.rootHash) return { kind: 'bad', reason: `two different trees of ${last.size} entries: the log was rewritten (a split view or a fork)` };
    return { kind: 'unchanged', size: last.size };
  }
  if (last) {
    const proof = await consistency(last.size, cp.value.size);
    const ok = verifyConsistency(last.size, cp.value.size, Buffer.from(last.rootHash, 'base64'), Buffer.from(cp.value.rootHash, 'base64'), proof.map((h) => Buffer.from(h, 'base64')));
    if (!ok) return { kind: 'bad', reason: `the tree of ${cp.value.size} entries does not extend the one of ${last.size} accepted before: entries were altered, removed or reordered` };
  }
  return { kind: 'accepted', checkpoint: await accept(state, cp.value, note, now) };
}

async function accept(state: WitnessState, cp: Checkpoint, note: string, now: number): Promise<Witnessed> {
  const at = note.lastIndexOf('\n\n');
  const cosigned = note + state.signer.cosign(note.slice(0, at + 1), Math.floor(now / 1000));
  const w: Witnessed = { size: cp.size, rootHash: cp.rootHash, at: new Date(now).toISOString(), note: cosigned };
  // Appended and synced before it is reported: a witness must not forget what it accepted.
  const fh = await open(files(state.dir).checkpoints, 'a');
  try {
    await fh.write(`${JSON.stringify(w)}\n`);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  state.last = w;
  return w;
}

/** A Prometheus text file (for node_exporter's textfile collector) with what the witness saw. */
export async function writeMetrics(dir: string, counts: { accepted: number; failures: number; size: number; lastSuccess: number }): Promise<void> {
  const text = [
    '# HELP covenant_witness_checkpoints_accepted_total Checkpoints accepted and cosigned.',
    '# TYPE covenant_witness_checkpoints_accepted_total counter',
    `covenant_witness_checkpoints_accepted_total ${counts.accepted}`,
    '# HELP covenant_witness_failures_total Checkpoints refused as unsigned or inconsistent.',
    '# TYPE covenant_witness_failures_total counter',
    `covenant_witness_failures_total ${counts.failures}`,
    '# HELP covenant_witness_tree_size Size of the last tree accepted.',
    '# TYPE covenant_witness_tree_size gauge',
    `covenant_witness_tree_size ${counts.size}`,
    '# HELP covenant_witness_last_success_seconds When a checkpoint was last fetched and judged consistent.',
    '# TYPE covenant_witness_last_success_seconds gauge',
    `covenant_witness_last_success_seconds ${counts.lastSuccess}`,
    '',
  ].join('\n');
  await writeFile(files(dir).metrics, text);
}

const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);
