// `covenant audit verify-receipt FILE... --log-key VKEY`: receipts checked offline, as a partner
// would, against the pinned verifier key; and `audit verify --receipts/--witness`: the log
// checked against what partners and witnesses hold.
import { readFile } from 'node:fs/promises';
import { parseVerifierKey, verifyReceipt, type Receipt, type VerifierKey } from '../verifier/receipt.js';
import { receiptAnchors, type Anchor } from '../audit/anchors.js';
import { pinnedLogKey, witnessKey, witnessed } from '../audit/witness.js';
import { cosignedAt } from '../audit/note.js';
import { openCheckpoint } from '../verifier/receipt.js';
import { Exit, type ExitCode, type Io } from './io.js';
import type { Format } from './options.js';

/** VKEY: the verifier key itself, or a file that holds it; with the key's text, as a witness pins it. */
export async function readVerifierKey(vkey: string): Promise<{ key: VerifierKey; text: string } | string> {
  const direct = parseVerifierKey(vkey);
  if (direct.ok) return { key: direct.value, text: vkey.trim() };
  const text = await readFile(vkey, 'utf8').then((t) => t.trim(), () => undefined);
  const inFile = text === undefined ? undefined : parseVerifierKey(text);
  if (inFile?.ok && text !== undefined) return { key: inFile.value, text };
  return `\`${vkey}\` is neither a verifier key (name+keyid+key) nor a file holding one${inFile && !inFile.ok ? `: ${inFile.reason}` : ''}`;
}

interface Held {
  readonly receipt: Receipt;
  /** the whole answer's text, when the file held an answer rather than a bare receipt */
  readonly answer?: string;
}

/** A receipt as a partner keeps it: bare, or in the answer that carried it (its text as kept). */
function held(value: unknown, text?: string): Held | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.receipt === 'object' && v.receipt !== null) return { receipt: v.receipt as Receipt, answer: text?.trim() ?? JSON.stringify(value) };
  return 'seq' in v && 'checkpoint' in v ? { receipt: v as unknown as Receipt } : undefined;
}

export async function verifyReceiptCommand(files: readonly string[], flags: { logKey?: string; format: Format }, io: Io): Promise<ExitCode> {
  if (!flags.logKey) {
    io.stderr('error: --log-key VKEY is required: the verifier key you were given out of band (or a file holding it)\n');
    return Exit.invalid;
  }
  const pinned = await readVerifierKey(flags.logKey);
  if (typeof pinned === 'string') {
    io.stderr(`error: ${pinned}\n`);
    return Exit.invalid;
  }
  const { key } = pinned;
  const results: { file: string; ok: boolean; seq?: number; treeSize?: number; reason?: string; tied?: boolean; id?: string }[] = [];
  const roots = new Map<number, { root: string; file: string }>();
  const valid: { file: string; receipt: Receipt }[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    let parsed: unknown;
    try {
      parsed = text === undefined ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const h = held(parsed, text);
    if (!h) {
      results.push({ file, ok: false, reason: text === undefined ? 'cannot be read' : 'holds no receipt (a JSON receipt, or an answer with one)' });
      continue;
    }
    // An answer is tied to its receipt when the receipt holds its entry (asked for with ?receipt=full).
    const answer = h.receipt.entry ? h.answer : undefined;
    let v = verifyReceipt(h.receipt, key, answer);
    // An answer stored reformatted: tie it by the text the service writes instead.
    if (!v.ok && answer !== undefined && answer !== JSON.stringify(parsed)) v = verifyReceipt(h.receipt, key, JSON.stringify(parsed));
    if (!v.ok) {
      results.push({ file, ok: false, seq: h.receipt.seq, reason: v.reason });
      continue;
    }
    // Two signed trees of one size with different roots: the log showed different histories.
    const other = roots.get(h.receipt.treeSize);
    if (other && other.root !== h.receipt.rootHash) {
      results.push({ file, ok: false, seq: h.receipt.seq, reason: `its tree of ${h.receipt.treeSize} entries differs from the one in ${other.file}: the log showed two histories` });
      continue;
    }
    roots.set(h.receipt.treeSize, { root: h.receipt.rootHash, file });
    results.push({ file, ok: true, seq: h.receipt.seq, treeSize: h.receipt.treeSize, tied: answer !== undefined, ...(h.answer !== undefined && { id: (parsed as { decisionId?: string }).decisionId }) });
    valid.push({ file, receipt: h.receipt });
  }
  const conflict = crossCheck(valid, key);
  if (conflict) results.push(conflict);
  const ok = results.every((r) => r.ok);
  if (flags.format === 'json') io.stdout(`${JSON.stringify({ ok, receipts: results }, null, 2)}\n`);
  else {
    for (const r of results) {
      if (!r.ok) io.stdout(`NOT valid: ${r.file}: ${r.reason}\n`);
      else {
        const tie = r.tied ? ', and holds this answer' : r.id ? ` (not tied to the answer: ask with ?receipt=full, or fetch GET /v1/audit/inclusion?id=${r.id} and keep its entry)` : '';
        io.stdout(`valid: ${r.file}: entry ${r.seq} is in the signed tree of ${r.treeSize} entries${tie}\n`);
      }
    }
  }
  return ok ? Exit.ok : Exit.failed;
}

/**
 * Receipts of different tree sizes can still contradict each other: their proofs state the hashes
 * of complete subtrees, and a subtree's hash is the same in every later tree of an honest log.
 */
function crossCheck(receipts: readonly { file: string; receipt: Receipt }[], key: VerifierKey): { file: string; ok: false; reason: string } | undefined {
  const seen = new Map<string, { hash: string; file: string }>();
  for (const { file, receipt } of receipts) {
    const anchors = receiptAnchors(receipt, key, file);
    if (typeof anchors === 'string') continue;
    for (const a of anchors) {
      const k = `${a.lo}:${a.hi}`;
      const hash = a.hash.toString('base64');
      const before = seen.get(k);
      if (before && before.hash !== hash) return { file, ok: false, reason: `it and ${before.file} state different hashes for entries ${a.lo + 1} to ${a.hi}: the log showed two histories` };
      seen.set(k, { hash, file });
    }
  }
  return undefined;
}

/** Receipts from a file: a JSON array, one JSON value, or NDJSON; bare or in their answers. */
export async function readReceipts(file: string): Promise<Held[] | string> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return `${file} cannot be read`;
  let values: unknown[];
  try {
    const whole = JSON.parse(text) as unknown;
    values = Array.isArray(whole) ? whole : [whole];
  } catch {
    try {
      values = text.split('\n').filter((l) => l.trim().length > 0).map((l) => JSON.parse(l) as unknown);
    } catch {
      return `${file} is neither JSON nor NDJSON`;
    }
  }
  const out: Held[] = [];
  for (const [i, v] of values.entries()) {
    const h = held(v);
    if (!h) return `${file}: item ${i + 1} holds no receipt`;
    out.push(h);
  }
  return out;
}

/** The anchors of `audit verify --receipts/--witness`, or what stops them being taken. */
export async function gatherAnchors(flags: { receipts?: string; witness?: string; logKey?: string }): Promise<{ anchors: Anchor[]; invalid: string[] } | string> {
  const pinned = flags.logKey ?? (flags.witness ? await pinnedLogKey(flags.witness) : undefined);
  if (!pinned) return '--receipts needs the verifier key the receipts were signed with: --log-key VKEY';
  const read = await readVerifierKey(pinned);
  if (typeof read === 'string') return read;
  const { key } = read;
  const anchors: Anchor[] = [];
  const invalid: string[] = [];
  if (flags.receipts) {
    const receipts = await readReceipts(flags.receipts);
    if (typeof receipts === 'string') return receipts;
    for (const { receipt } of receipts) {
      const a = receiptAnchors(receipt, key, `the receipt of entry ${receipt.seq}`);
      if (typeof a === 'string') invalid.push(`the receipt of entry ${receipt.seq}: ${a}`);
      else anchors.push(...a);
    }
  }
  if (flags.witness) {
    const cosigner = await witnessKey(flags.witness);
    for (const w of await witnessed(flags.witness)) {
      const cp = openCheckpoint(w.note, key);
      if (!cp.ok) invalid.push(`the witnessed checkpoint of ${w.size} entries: ${cp.reason}`);
      else if (cosigner && cosignedAt(w.note, cosigner) === undefined) invalid.push(`the witnessed checkpoint of ${w.size} entries: it does not carry the witness's cosignature`);
      else anchors.push({ lo: 0, hi: cp.value.size, hash: Buffer.from(cp.value.rootHash, 'base64'), source: `the checkpoint of ${cp.value.size} entries the witness accepted at ${w.at}` });
    }
  }
  return { anchors, invalid };
}
