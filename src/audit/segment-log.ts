// The embedded decision log: append-only NDJSON segments with group commit.
//
// Why not lowdb: it rewrites its whole file on every write, so an append would cost more as the
// log grows. Here an append is one write and one fdatasync shared by every entry that arrived
// while the previous fsync ran (group commit), whatever the log's size; memory holds only the
// queue and a few facts per segment. lowdb keeps the small manifest (the checkpoint of the head).
import { open, readdir, readFile, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { devNull } from 'node:os';
import { constants as fsConstants, write } from 'node:fs';
import { createHash, hash as digest } from 'node:crypto';
import { IdSource } from './ids.js';
import { queued, type Pending, type Wants } from './pending.js';
import { GENESIS, lineBound, sealInto, sealOf } from './chain.js';
import { backwardLines, completeEnd, firstLine, forwardLines } from './lines.js';
import { verifyLines, type Line } from './verify.js';
import { PRIVATE_FILE, makeDir, openState, syncDir, writeDurably, type State } from '../small-state.js';
import { TreeStore } from './tree-store.js';
import { LogTree, leafIn, leafOfLine, type EntryParts } from './log-tree.js';
import type { NoteSigner } from './note.js';
import type { DecisionLog, EntryDraft, InclusionProof, ListFilter, LogEntry, Page, Proven, SignedCheckpoint, Verification } from './types.js';

interface Segment {
  readonly file: string;
  readonly firstSeq: number;
  firstAt?: number;
  lastAt?: number;
  /** the id of its first entry; ids grow with seq, so this orders segments by id too */
  firstId?: string;
}

interface Manifest {
  checkpoint: { seq: number; hash: string; at: string } | null;
  /** the prefix removed by retention: how many entries, and the seq and hash of the last one; `tree` the compact range of their leaves */
  pruned?: { count: number; seq: number; hash: string; at: string; tree?: string[] } | null;
  /** the Merkle tree's size (leaves) whose stored hashes are synced, and its root (base64) */
  tree?: { size: number; rootHash: string };
  /** sha256 of the two above (manifestDigest), so that no byte of them changes unnoticed */
  sha256?: string;
}

const manifestDigest = (m: Manifest): string =>
  `sha256:${digest('sha256', JSON.stringify({ checkpoint: m.checkpoint, pruned: m.pruned ?? null, ...(m.tree && { tree: m.tree }) }), 'hex')}`;
// As the small state's files are written (src/small-state.ts).
const manifestText = (m: Manifest): string => JSON.stringify(m, null, 2);

export interface Recovery {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly quarantinedTo: string;
}

export interface SegmentLogOptions {
  /** a new segment starts once the current one is this large */
  readonly segmentBytes?: number;
  /** how often the head is checkpointed in the manifest */
  readonly checkpointMs?: number;
  readonly now?: () => number;
  /** for the command line beside a running service: never writes, never sets a torn tail aside */
  readonly readOnly?: boolean;
  /** told the time of each durable write (one group commit of `entries` entries), for metrics */
  readonly onWrite?: (seconds: number, entries: number) => void;
  /** told when a write fails (the log then refuses appends) and when the log is writable again */
  readonly onFailure?: (e: Error) => void;
  readonly onRecovered?: (detail: { quarantined?: Recovery }) => void;
  /** signs the tree's checkpoints; without one, answers carry no receipts */
  readonly signer?: NoteSigner;
  /** false: no Merkle tree at all, as before the log was verifiable (for `npm run bench:http`'s comparison only) */
  readonly tree?: boolean;
}

const SEGMENT = /^(\d{12})\.ndjson$/;
const APPEND_DURABLY = fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_DSYNC;
const name = (firstSeq: number): string => `${String(firstSeq).padStart(12, '0')}.ndjson`;
// Entries are appended in the order they were decided; concurrent decisions can be a little out of
// time order, so time-based shortcuts allow this much slack.
const SLACK_MS = 60_000;
const SCRATCH_MAX = 4 << 20;


export class SegmentLog implements DecisionLog {
  private queue: Pending[] = [];
  private writing = false;
  private failure: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checkpointed = 0;
  private readonly ids: IdSource;
  private scratch = Buffer.alloc(0);

  private constructor(
    private readonly dir: string,
    private readonly segments: Segment[],
    private fh: FileHandle,
    private size: number,
    private head: { seq: number; hash: string },
    private readonly manifest: State<Manifest>,
    private readonly options: Required<Omit<SegmentLogOptions, 'signer' | 'tree' | 'onFailure' | 'onRecovered'>> & Pick<SegmentLogOptions, 'onFailure' | 'onRecovered'>,
    /** set when a torn last entry was found and set aside at open */
    readonly recovery: Recovery | undefined,
    lastId: string | undefined,
    /** the Merkle tree over the entries; a read-only log has none */
    private readonly tree: LogTree | undefined,
  ) {
    this.checkpointed = head.seq;
    this.ids = new IdSource(lastId);
    if (options.readOnly) {
      this.failure = new Error('the log is open read-only');
      return;
    }
    // A checkpoint that cannot be written (a folder made read-only, a full disk) is news: the log
    // says so (checkpointError) until one succeeds again.
    this.timer = setInterval(
      () =>
        void this.checkpoint().then(
          () => {
            if (this.checkpointFailed) this.options.onRecovered?.({});
            this.checkpointFailed = undefined;
          },
          (e: Error) => {
            if (!this.checkpointFailed) this.options.onFailure?.(e);
            this.checkpointFailed = e;
          },
        ),
      options.checkpointMs,
    );
    this.timer.unref();
  }

  static async open(dir: string, opts: SegmentLogOptions = {}): Promise<SegmentLog> {
    const options = { segmentBytes: 32 << 20, checkpointMs: 1000, now: Date.now, readOnly: false, onWrite: () => undefined, ...opts };
    const segDir = join(dir, 'segments');
    if (!options.readOnly) await makeDir(segDir);
    const manifest = await openState<Manifest>(join(dir, 'manifest.json'), { checkpoint: null });

    const files = (await readdir(segDir).catch(() => [] as string[])).filter((f) => SEGMENT.test(f)).sort();
    const segments: Segment[] = files.map((f) => ({ file: join(segDir, f), firstSeq: Number(SEGMENT.exec(f)?.[1]) }));
    let recovery: Recovery | undefined;
    const last = segments[segments.length - 1];
    if (last && !options.readOnly) recovery = await setAsideTornTail(dir, last.file, options.now());
    for (const s of segments) await describe(s);

    let head = { seq: 0, hash: GENESIS };
    let lastId: string | undefined;
    for (let i = segments.length - 1; i >= 0 && head.seq === 0; i--) {
      const e = await lastEntry((segments[i] as Segment).file);
      if (!e) continue;
      head = { seq: e.seq, hash: e.hash };
      lastId = e.id;
    }
    if (segments.length === 0 && !options.readOnly) segments.push({ file: join(segDir, name(1)), firstSeq: 1 });
    const active = segments[segments.length - 1];
    // A read-only log of nothing has no file to hold open; the null device stands in.
    const fh = await open(active?.file ?? devNull, options.readOnly ? 'r' : APPEND_DURABLY, PRIVATE_FILE);
    const size = (await fh.stat()).size;
    if (size === 0 && !options.readOnly) await syncDir(segDir);
    const tree = options.readOnly || opts.tree === false ? undefined : await openTree(dir, segments, head.seq, manifest.data, opts.signer);
    const log = new SegmentLog(dir, segments, fh, size, head, manifest, options, recovery, lastId, tree);
    await tree?.signNow();
    if (recovery) {
      await log.append({ kind: 'recovery', id: log.newId(options.now()), at: new Date(options.now()).toISOString(), detail: { ...recovery } });
    }
    return log;
  }

  writable(): boolean {
    return this.failure === undefined;
  }

  append(draft: EntryDraft, decisionJson?: Uint8Array): Promise<LogEntry> {
    return this.enqueue(draft, decisionJson, 'entry', (entry) => entry);
  }

  /**
   * As append(), and the receipt of the entry: its inclusion proof to a signed checkpoint that
   * covers it. With `tied`, the receipt also holds the stored line around the decision (`entry`).
   */
  appendProven(draft: EntryDraft, decisionJson?: Uint8Array, tied = false): Promise<Proven> {
    if (!this.failure && !this.tree?.origin) return Promise.reject(new Error('the log has no key to sign checkpoints with'));
    return this.enqueue(draft, decisionJson, tied ? 'receipt+entry' : 'receipt', (entry, receipt) => ({ entry, receipt: receipt as string }));
  }

  /** Queues a draft for the next group commit; `answer` makes what the caller is given of it. */
  private enqueue<T>(draft: EntryDraft, decisionJson: Uint8Array | undefined, wants: Wants, answer: (entry: LogEntry, receipt?: string) => T): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return queued(draft, decisionJson, wants, answer, (p) => {
      this.queue.push(p);
      if (!this.writing) void this.flush();
    });
  }

  // INVARIANT: only one flush runs at a time; seq and prevHash are assigned here, in queue order.
  private async flush(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0 && !this.failure) {
      const batch = this.queue.splice(0);
      let { seq, hash } = this.head;
      // Byte 0 stays free: leafIn() puts the leaf's prefix before each line.
      let room = 1;
      for (const p of batch) room += lineBound(p.text, hash);
      const out = this.scratchFor(room);
      let end = 1;
      const leaves: Buffer[] = [];
      const parts: (EntryParts | undefined)[] = [];
      const sealed = batch.map(({ draft, text, wants }): LogEntry => {
        const start = end;
        const line = sealInto(out, end, text, ++seq, hash);
        if (this.tree) leaves.push(leafIn(out, start, line.end - 1));
        if (wants === 'receipt+entry' && typeof text !== 'string') {
          // the stored line around the decision, so that a partner can tie the receipt to its answer
          const decisionEnd = start + Buffer.byteLength(text.head) + text.decision.length;
          parts.push({ before: text.head, after: out.toString('utf8', decisionEnd, line.end - 1) });
        } else parts.push(undefined);
        // Object.assign, not `{ ...draft, seq, … }`: on Node 20 a spread followed by more members
        // took ~2 µs an entry (measured), Object.assign ~0.15 µs; the members and order are the same.
        const entry: LogEntry = Object.assign({}, draft, { seq, prevHash: hash, hash: line.hash });
        hash = line.hash;
        end = line.end;
        return entry;
      });
      const bytes = out.subarray(1, end);
      const started = process.hrtime.bigint();
      try {
        // The tree grows before the write. A failed write leaves it ahead of the log, which then
        // takes no more entries: reopening cuts the tree back to what the log holds.
        if (this.tree) {
          await this.tree.store.room(leaves.length);
          this.tree.grow(leaves, batch.some((p) => p.wants !== 'entry'));
        }
        if (this.size > 0 && this.size + bytes.length > this.options.segmentBytes) await this.rotate(this.head.seq + 1);
        // INVARIANT: the file is open with O_DSYNC, so the write returns only once the data is on
        // disk, as write + fdatasync would, in one round trip to the thread pool instead of two.
        await appendWhole(this.fh, bytes);
      } catch (e) {
        // A failed write may have left part of the batch on disk: stop appending, and try every
        // second to set that part aside and go on (a disk that was full has room again).
        this.failure = e instanceof Error ? e : new Error(String(e));
        this.tree?.writeFailed();
        for (const p of [...batch, ...this.queue.splice(0)]) p.reject(this.failure);
        this.options.onFailure?.(this.failure);
        this.scheduleRecovery();
        break;
      }
      this.options.onWrite(Number(process.hrtime.bigint() - started) / 1e9, batch.length);
      this.size += bytes.length;
      this.head = { seq, hash };
      const active = this.segments[this.segments.length - 1] as Segment;
      noteBatch(active, sealed);
      this.tree?.markDurable(seq);
      const tree = this.tree;
      if (!tree || batch.every((p) => p.wants === 'entry')) {
        batch.forEach((p, i) => p.resolve(sealed[i] as LogEntry));
        continue;
      }
      // Answers with receipts wait for a checkpoint that covers them; the log writes on meanwhile.
      tree.covering(seq).then(
        (signed) => {
          const receipt = tree.receipts(signed);
          batch.forEach((p, i) => {
            const entry = sealed[i] as LogEntry;
            if (p.wants === 'entry') p.resolve(entry);
            else p.resolve(entry, receipt(entry.seq, leaves[i] as Buffer, parts[i]));
          });
        },
        (e: Error) => batch.forEach((p) => p.reject(new Error(`the checkpoint could not be signed: ${e.message}`))),
      );
    }
    this.writing = false;
  }

  private recovering: NodeJS.Timeout | undefined;
  private checkpointFailed: Error | undefined;

  /** Why the last checkpoint of the manifest failed, while it keeps failing. */
  checkpointError(): Error | undefined {
    return this.checkpointFailed;
  }

  private scheduleRecovery(): void {
    if (this.recovering || this.options.readOnly) return;
    this.recovering = setInterval(() => void this.recover(), 1000);
    this.recovering.unref();
  }

  /**
   * After a failed write: the segment is cut back to its last acknowledged entry (what a failed
   * batch left is kept in quarantine, with a recovery entry, as a torn tail is at open), the tree
   * forgets the batch's leaves, and appends go on. Tried each second until it succeeds.
   */
  async recover(): Promise<boolean> {
    if (this.options.readOnly) return false;
    if (!this.failure || this.writing) return this.failure === undefined;
    const active = this.segments[this.segments.length - 1] as Segment;
    let quarantined: Recovery | undefined;
    try {
      await this.fh.close().catch(() => undefined);
      const fh = await open(active.file, APPEND_DURABLY, PRIVATE_FILE);
      this.fh = fh;
      const size = (await fh.stat()).size;
      if (size > this.size) {
        const rest = Buffer.alloc(size - this.size);
        // the appending handle is write-only: the rest is read through one of its own
        const reader = await open(active.file, 'r');
        await reader.read(rest, 0, rest.length, this.size).finally(() => reader.close());
        quarantined = await quarantine(this.dir, active.file, rest, `failed-write-${this.options.now()}`);
        await fh.truncate(this.size);
        await fh.datasync();
      }
    } catch {
      return false;
    }
    this.tree?.rollback(this.head.seq);
    this.failure = undefined;
    if (this.recovering) clearInterval(this.recovering);
    this.recovering = undefined;
    if (quarantined) {
      const now = this.options.now();
      await this.append({ kind: 'recovery', id: this.newId(now), at: new Date(now).toISOString(), detail: { ...quarantined, cause: 'a failed write' } }).catch(() => undefined);
    }
    this.options.onRecovered?.({ ...(quarantined && { quarantined }) });
    return this.failure === undefined;
  }

  /**
   * The buffer a batch is sealed into. One is kept and reused, since a batch is written before the
   * next is sealed; a batch larger than any before (up to a few MiB) makes it grow.
   */
  private scratchFor(bytes: number): Buffer {
    if (bytes <= this.scratch.length) return this.scratch;
    const fresh = Buffer.allocUnsafe(Math.max(bytes, 2 * this.scratch.length));
    if (fresh.length <= SCRATCH_MAX) this.scratch = fresh;
    return fresh;
  }

  private async rotate(firstSeq: number): Promise<void> {
    await this.fh.close();
    const file = join(this.dir, 'segments', name(firstSeq));
    this.fh = await open(file, APPEND_DURABLY, PRIVATE_FILE);
    this.size = 0;
    this.segments.push({ file, firstSeq });
    await syncDir(join(this.dir, 'segments'));
  }

  private async writeManifest(): Promise<void> {
    this.manifest.data.sha256 = manifestDigest(this.manifest.data);
    await this.manifest.write();
  }

  /**
   * Records the head in the manifest, so that verify can tell when entries were cut off the end,
   * and the size of the tree whose hashes are synced, from which a restart goes on.
   */
  async checkpoint(): Promise<void> {
    if (this.head.seq === this.checkpointed) return;
    const head = this.head;
    if (this.tree && this.tree.store.healthy()) {
      // INVARIANT: the tree holds at least the durable entries (it grows before their write).
      await this.tree.store.sync();
      this.manifest.data.tree = { size: head.seq, rootHash: this.tree.store.rootAt(head.seq).toString('base64') };
    }
    this.manifest.data.checkpoint = { ...head, at: new Date(this.options.now()).toISOString() };
    await this.writeManifest();
    this.checkpointed = head.seq;
  }

  /** The latest signed checkpoint given out, if the log signs. */
  async latestCheckpoint(): Promise<SignedCheckpoint | undefined> {
    return this.tree?.latest();
  }

  /** The inclusion proof of entry `seq` in the tree of `size` (default: the latest checkpoint's). */
  async inclusion(seq: number, size?: number): Promise<InclusionProof | undefined> {
    const tree = this.tree;
    const latest = tree?.latest();
    const n = size ?? latest?.size ?? this.head.seq;
    if (!tree || seq < 1 || seq > n || n > this.head.seq) return undefined;
    const node = tree.store.node;
    return {
      seq,
      leafHash: Buffer.from(node(0, seq - 1)).toString('base64'),
      treeSize: n,
      rootHash: tree.store.rootAt(n).toString('base64'),
      inclusionProof: tree.store.inclusion(seq - 1, n).map((h) => h.toString('base64')),
      ...(latest && latest.size === n && { checkpoint: latest.note }),
    };
  }

  /** The consistency proof between two tree sizes, both within the log. */
  async consistency(from: number, to: number): Promise<string[] | undefined> {
    if (!this.tree || from < 1 || from > to || to > this.head.seq) return undefined;
    return this.tree.store.consistency(from, to).map((h) => h.toString('base64'));
  }

  newId(now: number): string {
    return this.ids.next(now);
  }

  async get(id: string): Promise<LogEntry | undefined> {
    if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) return undefined;
    // the last segment whose first id is not after the one sought
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i] as Segment;
      if (s.firstId === undefined || s.firstId > id) continue;
      return findById(s.file, id);
    }
    return undefined;
  }

  async list(filter: ListFilter, page: { before?: number; limit: number }): Promise<Page> {
    const items: LogEntry[] = [];
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i] as Segment;
      if (page.before !== undefined && s.firstSeq >= page.before) continue;
      if (filter.from !== undefined && s.lastAt !== undefined && s.lastAt < filter.from - SLACK_MS) break;
      for await (const text of backwardLines(s.file)) {
        const e = JSON.parse(text) as LogEntry;
        if (page.before !== undefined && e.seq >= page.before) continue;
        const at = Date.parse(e.at);
        if (filter.from !== undefined && at < filter.from - SLACK_MS) return { items };
        if (!matches(e, filter, at)) continue;
        if (items.length === page.limit) return { items, next: (items[items.length - 1] as LogEntry).seq };
        items.push(e);
      }
    }
    return { items };
  }

  async *entries(range: { from?: number; to?: number } = {}): AsyncIterable<LogEntry> {
    // Times grow with seq (within a little slack), so a period is read from where it starts to
    // where it ends: the cost follows the entries in the period, not the size of the log.
    const from = range.from === undefined ? undefined : range.from - SLACK_MS;
    const to = range.to === undefined ? undefined : range.to + SLACK_MS;
    let first = true;
    for (const s of this.segments) {
      if (from !== undefined && s.lastAt !== undefined && s.lastAt < from) continue;
      if (to !== undefined && s.firstAt !== undefined && s.firstAt > to) return;
      const start = first && from !== undefined ? await seekLine(s.file, (e) => Date.parse(e.at) < from) : 0;
      first = false;
      for await (const { text } of forwardLines(s.file, start)) {
        const e = JSON.parse(text) as LogEntry;
        const at = Date.parse(e.at);
        if (to !== undefined && at > to) return;
        if ((range.from === undefined || at >= range.from) && (range.to === undefined || at <= range.to)) yield e;
      }
    }
  }

  verify(): Promise<Verification> {
    return verifyDirectory(this.dir);
  }

  /**
   * Retention: removes whole segments whose every entry is older than `before`, never the one
   * being written. The manifest first records the removed prefix (count, last seq and hash), so
   * verify can still prove the rest complete and unaltered; then the files go.
   */
  async prune(before: number): Promise<{ segments: number; entries: number }> {
    const removable: Segment[] = [];
    for (const s of this.segments.slice(0, -1)) {
      if (s.lastAt === undefined || s.lastAt >= before) break;
      removable.push(s);
    }
    if (removable.length === 0) return { segments: 0, entries: 0 };
    const next = this.segments[removable.length] as Segment;
    const last = await lastEntry((removable[removable.length - 1] as Segment).file);
    if (!last || last.seq !== next.firstSeq - 1) throw new Error('segments do not join up; run `covenant audit verify` before pruning');
    const earlier = this.manifest.data.pruned;
    const entries = last.seq - (earlier?.seq ?? 0);
    // The tree keeps every leaf's hash (proofs stay valid); the manifest also keeps the compact
    // range of the pruned prefix, from which verify recomputes the roots of the rest.
    const tree = this.tree?.store.prefix(last.seq).map((h) => h.toString('base64'));
    this.manifest.data.pruned = { count: (earlier?.count ?? 0) + entries, seq: last.seq, hash: last.hash, at: new Date(this.options.now()).toISOString(), ...(tree && { tree }) };
    await this.writeManifest();
    for (const s of removable) await unlink(s.file);
    await syncDir(join(this.dir, 'segments'));
    this.segments.splice(0, removable.length);
    return { segments: removable.length, entries };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.recovering) clearInterval(this.recovering);
    while (this.writing || (this.tree && !this.tree.idle())) await new Promise((r) => setTimeout(r, 1));
    await this.fh.close().catch(() => undefined);
    if (!this.options.readOnly) await this.checkpoint().catch(() => undefined);
    await this.tree?.store.close();
  }
}

/**
 * The tree over a log's entries: its stored hashes up to the size last synced, then the entries
 * after that added again from the segments.
 */
async function openTree(dir: string, segments: readonly Segment[], head: number, manifest: Manifest, signer: NoteSigner | undefined): Promise<LogTree> {
  const store = TreeStore.open(dir, Math.min(manifest.tree?.size ?? 0, head));
  const pruned = manifest.pruned?.seq ?? 0;
  if (store.count < pruned) {
    await store.close();
    throw new Error(`the log's tree (tree.hashes) is missing hashes of entries pruned by retention (up to ${pruned}): restore it from a backup of the data folder`);
  }
  const batch: Buffer[] = [];
  for (const s of segments) {
    const next = s === segments[segments.length - 1] ? undefined : segments[segments.indexOf(s) + 1];
    if (next && next.firstSeq <= store.count + 1) continue;
    for await (const { text } of forwardLines(s.file)) {
      const seq = sealOf(text)?.seq;
      if (seq === undefined || seq <= store.count + batch.length) continue;
      if (seq !== store.count + batch.length + 1) throw new Error(`the log skips from entry ${store.count + batch.length} to ${seq}: run \`covenant audit verify\``);
      batch.push(leafOfLine(text));
      if (batch.length === 4096) {
        store.append(batch.splice(0));
        await store.room(4096);
      }
    }
  }
  store.append(batch);
  if (store.count !== head) {
    await store.close();
    throw new Error(`the log's tree holds ${store.count} entries, the log ${head}: run \`covenant audit verify\``);
  }
  return new LogTree(store, signer);
}

/**
 * The stored lines of a log folder's entries in order, after a pruned prefix (`pruned`: its last
 * seq and the compact range of its leaves, as the manifest keeps them).
 */
export async function logLines(dir: string): Promise<{ pruned?: { seq: number; hashes: Buffer[] }; lines: AsyncIterable<string> }> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => '{}')) as Partial<Manifest>;
  const pruned = manifest.pruned;
  const segDir = join(dir, 'segments');
  const files = await readdir(segDir).then((f) => f.filter((x) => SEGMENT.test(x)).sort(), () => [] as string[]);
  async function* lines(): AsyncIterable<string> {
    for (const f of files) {
      for await (const { text } of forwardLines(join(segDir, f))) {
        const seal = sealOf(text);
        if (pruned && seal && seal.seq <= pruned.seq) continue;
        yield text;
      }
    }
  }
  return { ...(pruned && { pruned: { seq: pruned.seq, hashes: (pruned.tree ?? []).map((h) => Buffer.from(h, 'base64')) } }), lines: lines() };
}

/**
 * The leaf hashes of a log folder's entries in order, read without trusting its tree file: after a
 * pruned prefix, whose compact range the manifest keeps (`prefix`).
 */
export async function logLeaves(dir: string): Promise<{ prefix?: { size: number; hashes: Buffer[] }; leaves: AsyncIterable<Buffer> }> {
  const { pruned, lines } = await logLines(dir);
  async function* leaves(): AsyncIterable<Buffer> {
    for await (const text of lines) yield leafOfLine(text);
  }
  return { ...(pruned && { prefix: { size: pruned.seq, hashes: pruned.hashes } }), leaves: leaves() };
}

/**
 * Verifies a log folder without changing it (the offline `covenant audit verify` and the online
 * route share this): the chain through every segment, then the head against the checkpoint.
 */
export async function verifyDirectory(dir: string): Promise<Verification> {
  const segDir = join(dir, 'segments');
  const files = await readdir(segDir).then((f) => f.filter((x) => SEGMENT.test(x)).sort(), () => [] as string[]);
  let checkpoint: Manifest['checkpoint'] = null;
  let pruned: Manifest['pruned'] = null;
  const stored = await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => undefined);
  if (stored !== undefined) {
    try {
      const manifest = JSON.parse(stored) as Manifest;
      // Byte for byte as written, and sealed (a manifest from before the seal has none to check).
      if (stored !== manifestText(manifest) || (manifest.sha256 !== undefined && manifest.sha256 !== manifestDigest(manifest))) throw new Error('altered');
      checkpoint = manifest.checkpoint;
      pruned = manifest.pruned ?? null;
    } catch {
      // The manifest holds the checkpoint and the pruned prefix: without it, truncation could pass.
      return { ok: false, entries: 0, firstBad: { problem: 'unreadable', message: 'the log manifest (manifest.json) cannot be read: it was damaged or altered' } };
    }
  }
  let atCheckpoint: string | undefined;
  async function* lines(): AsyncIterable<Line> {
    for (const f of files) {
      const file = join(segDir, f);
      for await (const { text, line } of forwardLines(file)) {
        // A line not in sealed form is left to verifyLines, which reports it.
        const seal = sealOf(text);
        // a segment pruned in the manifest whose file a crash left behind
        if (pruned && seal && seal.seq <= pruned.seq) continue;
        if (checkpoint && atCheckpoint === undefined && seal?.seq === checkpoint.seq) atCheckpoint = seal.hash;
        yield { text, file: join('segments', f), line };
      }
      const size = (await stat(file)).size;
      if (size > 0 && !(await endsWithNewline(file, size))) {
        // a torn last entry: a crash in the middle of a write, not yet set aside by a restart
        yield { text: '\u0000torn', file: join('segments', f) };
      }
    }
  }
  const verified = await verifyLines(lines(), pruned ? { seq: pruned.seq, hash: pruned.hash } : undefined);
  // Pruned entries were verified when they were written; the rest must follow the pruned prefix.
  const result = pruned ? { ...verified, pruned: { count: pruned.count, seq: pruned.seq, hash: pruned.hash } } : verified;
  if (!result.ok || !checkpoint) return result;
  const headSeq = result.head?.seq ?? 0;
  if (headSeq < checkpoint.seq) {
    return {
      ...result,
      ok: false,
      firstBad: { seq: headSeq + 1, problem: 'truncated', message: `the log ends at entry ${headSeq}, but entry ${checkpoint.seq} was recorded: entries were removed from the end` },
    };
  }
  if (atCheckpoint !== undefined && atCheckpoint !== checkpoint.hash) {
    return { ...result, ok: false, firstBad: { seq: checkpoint.seq, problem: 'altered', message: `entry ${checkpoint.seq} differs from the one checkpointed: the log was rewritten` } };
  }
  return result;
}

async function endsWithNewline(file: string, size: number): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - 1);
    return b[0] === 10;
  } finally {
    await fh.close();
  }
}

function matches(e: LogEntry, f: ListFilter, at: number): boolean {
  if (!f.kinds.includes(e.kind)) return false;
  if (f.to !== undefined && at > f.to) return false;
  if (f.from !== undefined && at < f.from) return false;
  const request = 'request' in e && typeof e.request === 'object' && e.request !== null ? (e.request as Record<string, unknown>) : {};
  if (f.provider !== undefined && request.provider !== f.provider) return false;
  if (f.recipient !== undefined && request.recipient !== f.recipient) return false;
  if (f.purpose !== undefined && request.purpose !== f.purpose) return false;
  if (f.legalBasis !== undefined && request.legalBasis !== f.legalBasis) return false;
  if (f.caseReference !== undefined && request.caseReference !== f.caseReference && !(e.kind === 'approval' && e.approval.caseReference === f.caseReference)) return false;
  if (f.category !== undefined) {
    const c = f.category;
    const named = Array.isArray(request.dataCategories) ? (request.dataCategories as unknown[]) : [];
    if (!named.some((x) => typeof x === 'string' && (x === c || x.startsWith(`${c}.`)))) return false;
  }
  if (f.callerKey !== undefined && !('caller' in e && e.caller.keyId === f.callerKey)) return false;
  if (f.rule !== undefined && !('decision' in e && e.decision.categories.some((d) => d.rules.includes(f.rule as string)))) return false;
  if (f.decision !== undefined && !('decision' in e && e.decision.decision === f.decision)) return false;
  return true;
}

/** Widens a segment's time ranges to cover an entry. */
function note(s: Segment, e: LogEntry): void {
  const at = Date.parse(e.at);
  s.firstAt = Math.min(s.firstAt ?? at, at);
  s.lastAt = Math.max(s.lastAt ?? at, at);
  s.firstId ??= e.id;
}

/**
 * Appends `bytes` whole, or fails. Through fs.write and a callback rather than
 * FileHandle.write: the promise API's bookkeeping around each call cost the service's one thread
 * ~8 µs a write (measured), and in alternating bench runs the service answered ~5 % more decisions
 * per second without it. A short write (the disk filled, a file size limit) is a failed write, never
 * an acknowledged one; the rest is not retried, since reopening the log sets a torn tail aside.
 */
function appendWhole(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    write(fh.fd, bytes, 0, bytes.length, null, (e, written) => {
      if (e) reject(e);
      else if (written !== bytes.length) reject(new Error(`short write: ${written} of ${bytes.length} bytes`));
      else resolve();
    });
  });
}

/**
 * Widens a segment's time ranges to cover a batch. INVARIANT: `at` is written by toISOString,
 * whose text orders as its time does, so only the earliest and the latest are parsed.
 */
function noteBatch(s: Segment, batch: readonly LogEntry[]): void {
  const head = batch[0];
  if (!head) return;
  s.firstId ??= head.id;
  let [first, last] = [head, head];
  for (const e of batch) {
    if (e.at < first.at) first = e;
    if (e.at > last.at) last = e;
  }
  note(s, first);
  note(s, last);
}

/** Reads a segment's first id and time range from its first and last entries. */
async function describe(s: Segment): Promise<void> {
  const first = await firstLine(s.file);
  if (first !== undefined) note(s, JSON.parse(first) as LogEntry);
  const last = await lastEntry(s.file);
  if (last) note(s, last);
}

/** A segment's last complete entry. */
async function lastEntry(file: string): Promise<LogEntry | undefined> {
  for await (const text of backwardLines(file)) return JSON.parse(text) as LogEntry;
  return undefined;
}

/**
 * The offset of the first complete line for which `before` is false: a binary search over byte
 * offsets, for lines ordered so that `before` holds for a prefix of them (ids and times grow with
 * seq). Reads a few lines, never the segment.
 */
async function seekLine(file: string, before: (e: LogEntry) => boolean): Promise<number> {
  const fh = await open(file, 'r');
  try {
    const size = await completeEnd(fh);
    const WINDOW = 1 << 16;
    // the first whole line that starts at or after `from`
    const lineAfter = async (from: number): Promise<{ start: number; end: number; entry: LogEntry } | undefined> => {
      let start = from;
      if (from > 0) {
        const nl = await indexOfNewline(fh, from - 1, size);
        if (nl === -1) return undefined;
        start = nl + 1;
      }
      if (start >= size) return undefined;
      const nl = await indexOfNewline(fh, start, size);
      const stop = nl === -1 ? size : nl;
      const buf = Buffer.alloc(stop - start);
      await fh.read(buf, 0, buf.length, start);
      return { start, end: stop + 1, entry: JSON.parse(buf.toString('utf8')) as LogEntry };
    };
    let lo = 0;
    let hi = size;
    // INVARIANT: every line that starts before `lo` is before; the answer starts before `hi`,
    // or is the first line that starts at or after it.
    while (hi - lo > WINDOW) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const line = await lineAfter(mid);
      if (!line || line.start >= hi) hi = mid;
      else if (before(line.entry)) lo = line.end;
      else hi = line.start;
    }
    for (let at = lo; ; ) {
      const line = await lineAfter(at);
      if (!line) return size;
      if (!before(line.entry)) return line.start;
      at = line.end;
    }
  } finally {
    await fh.close();
  }
}

async function findById(file: string, id: string): Promise<LogEntry | undefined> {
  const offset = await seekLine(file, (e) => e.id < id);
  for await (const { text } of forwardLines(file, offset)) {
    const e = JSON.parse(text) as LogEntry;
    return e.id === id ? e : undefined;
  }
  return undefined;
}

async function indexOfNewline(fh: FileHandle, from: number, size: number): Promise<number> {
  const buf = Buffer.alloc(1 << 14);
  for (let at = from; at < size; at += buf.length) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - at), at);
    const i = buf.subarray(0, bytesRead).indexOf(10);
    if (i !== -1) return at + i;
  }
  return -1;
}

/**
 * A crash in the middle of a write leaves a last line without its newline. It was never
 * acknowledged (we answer only after fsync), so it is no decision; but it is not silently dropped
 * either: its bytes are kept in quarantine and a recovery entry in the log says so.
 */
async function setAsideTornTail(dir: string, file: string, now: number): Promise<Recovery | undefined> {
  const size = (await stat(file)).size;
  if (size === 0) return undefined;
  const fh = await open(file, 'r');
  try {
    let end = size;
    let tailStart = -1;
    const buf = Buffer.alloc(1 << 16);
    while (end > 0 && tailStart === -1) {
      const n = Math.min(buf.length, end);
      await fh.read(buf, 0, n, end - n);
      const nl = buf.subarray(0, n).lastIndexOf(10);
      if (nl !== -1) tailStart = end - n + nl + 1;
      end -= n;
    }
    if (tailStart === -1) tailStart = 0;
    if (tailStart === size) return undefined;
    const torn = Buffer.alloc(size - tailStart);
    await fh.read(torn, 0, torn.length, tailStart);
    // INVARIANT: the bytes are safe in quarantine before they leave the segment.
    const recovery = await quarantine(dir, file, torn, `torn-${now}`);
    await truncate(file, tailStart);
    const w = await open(file, 'r+');
    await w.datasync();
    await w.close();
    return recovery;
  } finally {
    await fh.close();
  }
}

/**
 * Keeps bytes that are about to leave a segment (a torn tail, what a failed write left) durably in
 * the log's quarantine folder, and describes them for the recovery entry that records it.
 */
async function quarantine(dir: string, file: string, bytes: Buffer, stem: string): Promise<Recovery> {
  const qdir = join(dir, 'quarantine');
  await makeDir(qdir);
  const quarantinedTo = join(qdir, `${stem}.bin`);
  await writeDurably(quarantinedTo, bytes);
  // Paths relative to the log folder: the entry is for auditors, the server's layout is not.
  return { file: relative(dir, file), bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), quarantinedTo: relative(dir, quarantinedTo) };
}
