// The decision log in PostgreSQL, shared by any number of replicas of the service: one order, one
// hash chain and one Merkle tree across all of them.
//
// Each replica gathers the entries that arrive while its last batch commits (a group commit, as the
// segment log does) and sequences them in one transaction: it locks the head row, gives the batch
// the next seqs and hashes after the head, adds their leaves to the tree (the head keeps the tree's
// compact range, so the cost does not grow with the log), signs a checkpoint of the new size,
// inserts the entries and the tree's new complete subtrees, moves the head, and commits. Locking
// once a batch rather than once an entry is what lets it scale: an outside probe measured 3,400
// entries/s at most with a lock per entry, 59-72k with one per 64 entries. The batch commits
// without waiting for the disk, so the lock is held for its statements only; an answer leaves only
// once a commit made after it with synchronous_commit on has returned (durable()), which flushes
// the WAL past the batch, as PostgreSQL's own group commit does for concurrent transactions.
import type pg from 'pg';
import { randomBytes } from 'node:crypto';
import { lineBound, sealInto, sealOf } from './chain.js';
import { CompactRange } from './merkle.js';
import { checkpointText, leafIn, receiptMaker, type EntryParts } from './log-tree.js';
import { IdSource } from './ids.js';
import { queued, type Pending, type Wants } from './pending.js';
import { PgReader } from './pg-read.js';
import { COLUMNS, columnsOf, frontierOf, frontierText, nodeId, nodeSource, rangeNodes, tables, toClosedRow, type HeadRow, type Tables } from './pg-rows.js';
import { connect, inTransaction, migrate, type Database } from './pg-schema.js';
import type { NoteSigner } from './note.js';
import type { DecisionLog, EntryDraft, InclusionProof, ListFilter, LogEntry, Page, Proven, SignedCheckpoint, Verification } from './types.js';

export interface PgLogOptions {
  /** signs a checkpoint of every batch; without one, answers carry no receipts */
  readonly signer?: NoteSigner;
  /** for review commands beside running replicas: never writes */
  readonly readOnly?: boolean;
  /** at most this many entries are sequenced under one lock of the head */
  readonly maxBatch?: number;
  /** told the time of each commit (one batch of `entries` entries), for metrics */
  readonly onWrite?: (seconds: number, entries: number) => void;
  /** told when a commit fails (the log then refuses appends) and when it can commit again */
  readonly onFailure?: (e: Error) => void;
  readonly onRecovered?: () => void;
}



/** how often a log that could not commit tries the database again */
const RETRY_MS = 500;
/** transactions of one replica at once: one committing, one waiting for the head's lock */
const ROUNDS = 2;
/** how often an idle log asks whether the database is still there */
const HEARTBEAT_MS = 1000;

export class PgLog implements DecisionLog {
  private queue: Pending[] = [];
  /** rounds under way: at most ROUNDS, of which at most one waits for the head's lock */
  private readonly rounds = new Set<Promise<void>>();
  private waiting = false;
  private flushing = false;
  private flushWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  /** this process's row of the flush table: a write whose synchronous commit flushes the WAL */
  private readonly replica = randomBytes(8).toString('hex');
  private failure: Error | undefined;
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private scratch = Buffer.alloc(0);
  /** base64 of complete subtrees, shared by the receipts of many batches (their proofs overlap) */
  private readonly encoded = new Map<number, string>();
  private readonly t: Tables;
  private readonly read: PgReader;

  private constructor(
    private readonly db: Database,
    private readonly ids: IdSource,
    private readonly options: PgLogOptions,
    /** true: the log made its pool and ends it at close */
    private readonly owned: boolean,
  ) {
    this.t = tables(db.schema);
    this.read = new PgReader(db);
    if (options.readOnly) {
      this.failure = new Error('the log is open read-only');
      return;
    }
    // A database that went away is noticed within a second also when no decision is asked, so
    // that /readyz says so and a load balancer sends partners to a replica that can answer.
    // It also learns the latest id any replica recorded: a replica whose clock runs behind then
    // makes no id below those, however far behind it runs.
    this.heartbeat = setInterval(() => {
      if (this.failure || this.rounds.size > 0) return;
      this.db.pool.query<{ last_id: string | null }>(`select last_id from ${this.t.head}`).then((r) => {
        const last = r.rows[0]?.last_id;
        if (last) this.ids.atLeast(last);
      }, (e: Error) => this.fail(e));
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** A log on its own pool, closed with it: for commands and tests. */
  static async connect(url: string, opts: PgLogOptions & { schema?: string } = {}): Promise<PgLog> {
    const db = connect(url, opts.schema, 4);
    try {
      return await PgLog.open(db, opts, true);
    } catch (e) {
      // a log that opened and then failed has ended its pool already
      if (!db.pool.ended) await db.pool.end();
      throw e;
    }
  }

  /**
   * Opens the log in `db`, creating its tables if they are missing. Refuses a signer whose key is
   * not the one the log was first signed with: replicas must all sign with the same key, or
   * witnesses and partners could not tell their checkpoints from a forger's.
   */
  static async open(db: Database, opts: PgLogOptions = {}, owned = false): Promise<PgLog> {
    if (!opts.readOnly) await migrate(db);
    const s = db.schema;
    let head: HeadRow | undefined;
    try {
      head = (await db.pool.query<HeadRow>(`select * from ${s}.log_head`)).rows[0];
    } catch (e) {
      if ((e as { code?: string }).code === '42P01') throw new Error(`no covenant log in schema ${s} of this database`, { cause: e });
      throw e;
    }
    if (!head) throw new Error(`no covenant log in schema ${s} of this database`);
    const log = new PgLog(db, new IdSource(head.last_id ?? undefined), opts, owned);
    if (opts.readOnly) return log;
    try {
      // Committed durably, so it covers every entry visible now: what readers may show.
      await db.pool.query(`begin; set local synchronous_commit to on; ${log.flushRow('insert')}; commit`);
      if (opts.signer) await log.pinKey(opts.signer);
      return log;
    } catch (e) {
      await log.close();
      throw e;
    }
  }

  private async pinKey(signer: NoteSigner): Promise<void> {
    await this.db.pool.query(`update ${this.t.head} set log_key = $1 where log_key is null`, [signer.verifierKey]);
    const { rows } = await this.db.pool.query<{ log_key: string }>(`select log_key from ${this.t.head}`);
    const pinned = rows[0]?.log_key;
    if (pinned !== signer.verifierKey) {
      throw new Error(`this database's log is signed with the key ${pinned}, not with this replica's (${signer.verifierKey}): give every replica the same --log-key`);
    }
    // A checkpoint from the start, so that the checkpoint route has one before any decision.
    const latest = await this.latestCheckpoint();
    if (!latest) await this.signHead();
  }

  /** Signs a checkpoint of the head as it stands, unless it has one. */
  private async signHead(): Promise<void> {
    await this.transaction(async (client, head) => {
      if (head.checkpoint_note !== null) return { value: undefined, durable: true };
      const signer = this.options.signer as NoteSigner;
      const rootHash = CompactRange.of(head.seq, frontierOf(head.frontier)).root().toString('base64');
      const note = await signer.signNote(checkpointText(signer.name, head.seq, rootHash));
      await client.query(`update ${this.t.head} set checkpoint_size = $1, checkpoint_root = $2, checkpoint_note = $3`, [head.seq, rootHash, note]);
      return { value: undefined, durable: true };
    });
  }

  newId(now: number): string {
    return this.ids.next(now);
  }

  writable(): boolean {
    return this.failure === undefined;
  }

  append(draft: EntryDraft, decisionJson?: Uint8Array): Promise<LogEntry> {
    return this.enqueue(draft, decisionJson, 'entry', (entry) => entry);
  }

  appendProven(draft: EntryDraft, decisionJson?: Uint8Array, tied = false): Promise<Proven> {
    if (!this.failure && !this.options.signer) return Promise.reject(new Error('the log has no key to sign checkpoints with'));
    return this.enqueue(draft, decisionJson, tied ? 'receipt+entry' : 'receipt', (entry, receipt) => ({ entry, receipt: receipt as string }));
  }

  private enqueue<T>(draft: EntryDraft, decisionJson: Uint8Array | undefined, wants: Wants, answer: (entry: LogEntry, receipt?: string) => T): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return queued(draft, decisionJson, wants, answer, (p) => {
      this.queue.push(p);
      this.kick();
    });
  }

  /**
   * Starts a round when entries wait and no round is waiting for the head's lock: while one round
   * holds the lock and commits, the next already waits for it, and takes what queued meanwhile
   * once it has it. The lock is then never idle between batches (a round trip and the service's
   * own work on the answers), which on this machine had left it idle more than half the time.
   */
  private kick(): void {
    if (this.failure || this.waiting || this.rounds.size >= ROUNDS || this.queue.length === 0) return;
    this.waiting = true;
    const round = this.round().finally(() => {
      this.rounds.delete(round);
      this.kick();
    });
    this.rounds.add(round);
  }

  // INVARIANT: a round takes its batch only once it holds the head's lock, so batches of one
  // replica commit in the order they were queued; across replicas the lock orders them.
  private async round(): Promise<void> {
    let batch: Pending[] = [];
    const started = process.hrtime.bigint();
    try {
      const { value: done, durable } = await this.transaction(async (client, head) => {
        this.waiting = false;
        batch = this.queue.splice(0, this.options.maxBatch ?? 512);
        this.kick();
        if (batch.length === 0) return { value: () => undefined, durable: true };
        const answer = await this.commit(client, head, batch);
        // Alone (nothing queued, no round waiting for the lock), the batch commits durably at once:
        // no one waits for the lock, and a separate flush would cost a round trip more.
        return { value: answer, durable: this.queue.length === 0 && !this.waiting };
      });
      if (batch.length > 0) {
        if (!durable) await this.durable();
        this.options.onWrite?.(Number(process.hrtime.bigint() - started) / 1e9, batch.length);
      }
      done();
    } catch (e) {
      this.waiting = false;
      // Committed or not, nothing of the batch is answered: an entry recorded but never answered
      // is allowed, an answer without its entry is not.
      const failure = this.fail(e instanceof Error ? e : new Error(String(e)));
      for (const p of batch) p.reject(failure);
    }
  }

  /** The log takes no more entries (those queued are refused) until the database answers again. */
  private fail(e: Error): Error {
    if (!this.failure) {
      this.failure = e;
      this.options.onFailure?.(e);
    }
    for (const p of this.queue.splice(0)) p.reject(this.failure);
    this.scheduleRetry();
    return this.failure;
  }

  /** Sequences a batch in the transaction that holds the head; resolves to what answers it once committed. */
  private async commit(client: pg.PoolClient, head: HeadRow, batch: readonly Pending[]): Promise<() => void> {
    let { seq, hash } = head;
    const range = CompactRange.of(seq, frontierOf(head.frontier));
    // the tree's complete subtrees this batch's proofs need: the range it starts from, and its own
    const known = new Map<number, Buffer>();
    rangeNodes(seq, frontierOf(head.frontier), (level, index, h) => known.set(nodeId(level, index), h));
    const nodes: { level: number; index: number; hash: Buffer }[] = [];
    const onNode = (level: number, index: number, h: Buffer): void => {
      known.set(nodeId(level, index), h);
      if (level > 0) nodes.push({ level, index, hash: h });
    };
    let room = 1;
    for (const p of batch) room += lineBound(p.text, hash);
    const out = this.scratchFor(room);
    let end = 1;
    const params: unknown[] = [];
    const leaves: Buffer[] = [];
    const parts: (EntryParts | undefined)[] = [];
    let lastId = head.last_id ?? '';
    const sealed = batch.map(({ draft, text, wants }): LogEntry => {
      const start = end;
      const line = sealInto(out, end, text, ++seq, hash);
      const leaf = leafIn(out, start, line.end - 1);
      leaves.push(leaf);
      range.push(leaf, onNode);
      if (wants === 'receipt+entry' && typeof text !== 'string') {
        const decisionEnd = start + Buffer.byteLength(text.head) + text.decision.length;
        parts.push({ before: text.head, after: out.toString('utf8', decisionEnd, line.end - 1) });
      } else parts.push(undefined);
      const entry: LogEntry = Object.assign({}, draft, { seq, prevHash: hash, hash: line.hash });
      params.push(...columnsOf(entry), out.toString('utf8', start, line.end - 1), leaf);
      if (draft.id > lastId) lastId = draft.id;
      hash = line.hash;
      end = line.end;
      return entry;
    });
    const signer = this.options.signer;
    const rootHash = range.root().toString('base64');
    const note = signer ? await signer.signNote(checkpointText(signer.name, seq, rootHash)) : null;
    const width = COLUMNS.length;
    const rows = batch.map((_, r) => `(${COLUMNS.map((_, c) => `$${r * width + c + 1}`).join(',')})`).join(',');
    const n = params.length;
    params.push(
      nodes.map((x) => x.level),
      nodes.map((x) => x.index),
      nodes.map((x) => x.hash),
      seq,
      hash,
      lastId,
      frontierText(range),
      note === null ? head.checkpoint_size : seq,
      note === null ? head.checkpoint_root : rootHash,
      note ?? head.checkpoint_note,
    );
    const p = (i: number): string => `$${n + i}`;
    await client.query(
      `with e as (insert into ${this.t.entries} (${COLUMNS.join(',')}) values ${rows}),
            t as (insert into ${this.t.nodes} (level, idx, hash) select * from unnest(${p(1)}::smallint[], ${p(2)}::bigint[], ${p(3)}::bytea[]))
       update ${this.t.head} set seq = ${p(4)}, hash = ${p(5)}, last_id = ${p(6)}, frontier = ${p(7)},
         checkpoint_size = ${p(8)}, checkpoint_root = ${p(9)}, checkpoint_note = ${p(10)}`,
      params,
    );
    this.ids.atLeast(lastId);
    return () => {
      const receipt = note === null ? undefined : receiptMaker(nodeSource(known), { size: seq, rootHash, note }, this.encoded);
      batch.forEach((pending, i) => {
        const entry = sealed[i] as LogEntry;
        if (pending.wants === 'entry' || !receipt) pending.resolve(entry);
        else pending.resolve(entry, receipt(entry.seq, leaves[i] as Buffer, parts[i]));
      });
    };
  }

  /**
   * Runs `work` in a transaction that holds the head's row lock, and commits. Rolls back and
   * throws if anything fails; a connection that failed is not given back to the pool.
   */
  private transaction<T>(work: (client: pg.PoolClient, head: HeadRow) => Promise<{ value: T; durable: boolean }>): Promise<{ value: T; durable: boolean }> {
    return inTransaction(
      this.db,
      async (client, opened) => {
        const head = (opened[2] as pg.QueryResult<HeadRow> | undefined)?.rows[0];
        if (!head) throw new Error(`the log's head is missing from ${this.t.head}`);
        return work(client, head);
      },
      {
        // Committed without waiting for the disk unless `work` asks for a durable commit, so that
        // the head's lock goes at once to the next batch (of this replica or another): answers
        // wait for durable() instead. The lock is taken in the same round trip as the begin.
        begin: `begin; set local synchronous_commit to off; select * from ${this.t.head} for update`,
        commit: (done) => (done.durable ? `set local synchronous_commit to on; ${this.flushRow('update')}; commit` : 'commit'),
      },
    );
  }

  /**
   * Resolves once every transaction this replica committed before the call is durable: the WAL is
   * flushed up to a commit made after them, with synchronous_commit on (and so on a synchronous
   * standby too, where there is one). The WAL is written in order, so that commit's flush covers
   * theirs; one flush serves every batch that committed while the one before was under way.
   */
  private durable(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.flushWaiters.push({ resolve, reject });
      if (!this.flushing) void this.flushAll();
    });
  }

  private async flushAll(): Promise<void> {
    this.flushing = true;
    while (this.flushWaiters.length > 0) {
      // INVARIANT: only waiters that came before this flush started are resolved by it.
      const waiters = this.flushWaiters.splice(0);
      try {
        await this.db.pool.query(`begin; set local synchronous_commit to on; ${this.flushRow('update')}; commit`);
        for (const w of waiters) w.resolve();
      } catch (e) {
        for (const w of waiters) w.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
    this.flushing = false;
  }

  /**
   * The statement that moves this replica's flush row to the head's seq as its transaction sees it.
   * Committed with synchronous_commit on, it is durable only once the WAL is flushed past every
   * commit it saw (the WAL is written in order), so that seq is durable: readers show up to it.
   */
  private flushRow(how: 'insert' | 'update'): string {
    const head = `(select seq from ${this.t.head})`;
    return how === 'insert'
      ? `insert into ${this.t.flush} (replica, flushes, seq) values ('${this.replica}', 0, ${head})`
      : `update ${this.t.flush} set flushes = flushes + 1, seq = ${head} where replica = '${this.replica}'`;
  }

  private scratchFor(bytes: number): Buffer {
    if (this.scratch.length < bytes) this.scratch = Buffer.allocUnsafe(Math.max(bytes, 64 << 10));
    return this.scratch;
  }

  private scheduleRetry(): void {
    if (this.retry || this.options.readOnly) return;
    this.retry = setInterval(() => {
      this.db.pool.query('select 1').then(
        () => {
          clearInterval(this.retry);
          this.retry = undefined;
          this.failure = undefined;
          this.options.onRecovered?.();
        },
        () => undefined,
      );
    }, RETRY_MS);
    this.retry.unref();
  }

  /** The latest checkpoint, given out only once it is durable: a witness must never cosign one a crash could take back. */
  async latestCheckpoint(): Promise<SignedCheckpoint | undefined> {
    const { rows } = await this.db.pool.query<HeadRow>(`select checkpoint_size, checkpoint_root, checkpoint_note from ${this.t.head}`);
    const h = rows[0];
    if (!h || h.checkpoint_size === null || h.checkpoint_root === null || h.checkpoint_note === null) return undefined;
    if (!this.options.readOnly) await this.durable();
    return { size: h.checkpoint_size, rootHash: h.checkpoint_root, note: h.checkpoint_note };
  }

  async inclusion(seq: number, size?: number): Promise<InclusionProof | undefined> {
    return this.read.inclusion(seq, size, await this.latestCheckpoint());
  }

  consistency(from: number, to: number): Promise<string[] | undefined> {
    return this.read.consistency(from, to);
  }

  get(id: string): Promise<LogEntry | undefined> {
    return this.read.get(id);
  }

  list(filter: ListFilter, page: { before?: number; limit: number }): Promise<Page> {
    return this.read.list(filter, page);
  }

  entries(range: { from?: number; to?: number } = {}): AsyncIterable<LogEntry> {
    return this.read.entries(range);
  }

  /** The leaf hashes of the entries after the pruned prefix, from their text, and that prefix's range. */
  leaves(): Promise<{ prefix?: { size: number; hashes: Buffer[] }; leaves: AsyncIterable<Buffer> }> {
    return this.read.leaves();
  }

  verify(): Promise<Verification> {
    return this.read.verify();
  }

  /**
   * Retention: the entries older than `before` lose their content (who asked what about whom),
   * keeping their leaf hashes, so that every proof stays valid; the head records the pruned
   * prefix first (its last seq and hash, and the range of its leaves), so verify can still prove
   * the rest complete and unaltered. Never the last entry, from which the chain goes on. Replicas
   * may prune at once: the head moves only from the prefix it was read with.
   */
  async prune(before: number): Promise<{ segments: number; entries: number }> {
    const head = (await this.db.pool.query<HeadRow>(`select * from ${this.t.head}`)).rows[0];
    if (!head) throw new Error(`the log's head is missing from ${this.t.head}`);
    // entries are in time order but for a little slack: the prefix ends before the first that is not old
    const first = (await this.db.pool.query<{ seq: number | null }>(`select min(seq) as seq from ${this.t.entries} where seq > $1 and at_ms >= $2`, [head.pruned_seq, before])).rows[0]?.seq;
    const last = Math.min((first ?? head.seq + 1) - 1, head.seq - 1);
    let entries = 0;
    if (last > head.pruned_seq) {
      const line = (await this.db.pool.query<{ line: string | null }>(`select line from ${this.t.entries} where seq = $1`, [last])).rows[0]?.line;
      const seal = line ? sealOf(line) : undefined;
      if (!seal || seal.seq !== last) throw new Error(`entry ${last} cannot be read; run \`covenant audit verify\` before pruning`);
      const range = CompactRange.of(head.pruned_seq, frontierOf(head.pruned_frontier));
      for await (const leaf of this.read.storedLeaves(head.pruned_seq, last)) range.push(leaf);
      const moved = await this.db.pool.query(
        `update ${this.t.head} set pruned_seq = $1, pruned_hash = $2, pruned_count = pruned_count + $3, pruned_frontier = $4 where pruned_seq = $5`,
        [last, seal.hash, last - head.pruned_seq, frontierText(range), head.pruned_seq],
      );
      if (moved.rowCount === 1) entries = last - head.pruned_seq;
    }
    // Then the content goes; also what an earlier prune recorded but did not get to remove.
    const { rows } = await this.db.pool.query<{ pruned_seq: number }>(`select pruned_seq from ${this.t.head}`);
    await this.db.pool.query(
      `update ${this.t.entries} set line = null, provider = null, recipient = null, purpose = null, legal_basis = null, case_reference = null, caller_key = null, decision = null, categories = null, rules = null
       where seq <= $1 and line is not null`,
      [rows[0]?.pruned_seq ?? 0],
    );
    return { segments: 0, entries };
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.retry);
    this.retry = undefined;
    while (this.rounds.size > 0) await Promise.all(this.rounds);
    while (this.flushing) await new Promise((r) => setTimeout(r, 5));
    // This replica's flush row goes with it, its durable seq handed on, which readers still show.
    // One left by a replica that was killed stays, and counts as it is.
    if (!this.options.readOnly) {
      const mine = `coalesce((select seq from ${this.t.flush} where replica = '${this.replica}'), 0)`;
      await inTransaction(this.db, async (client) => {
        await client.query(toClosedRow(this.t, mine));
        await client.query(`delete from ${this.t.flush} where replica = $1`, [this.replica]);
      }).catch(() => undefined);
    }
    if (this.owned) await this.db.pool.end();
  }
}

