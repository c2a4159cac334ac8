// Reading the PostgreSQL log: entries by id, pages of a listing, periods in order, proofs of
// inclusion and consistency from the stored tree, and verification. Writers and the review
// thread's read-only views share it; it never writes.
import { CompactRange, consistencyProof, inclusionProof, type NodeSource } from './merkle.js';
import { leafOfLine } from './log-tree.js';
import { verifyLines, type Line } from './verify.js';
import type { Database } from './pg-schema.js';
import { PAGE, frontierOf, frontierText, nodeId, nodeSource, tables, treeRoot, type HeadRow, type Tables } from './pg-rows.js';
import type { InclusionProof, ListFilter, LogEntry, Page, SignedCheckpoint, Verification } from './types.js';

export class PgReader {
  private readonly t: Tables;

  constructor(private readonly db: Database) {
    this.t = tables(db.schema);
  }

  /** Entry `seq`'s inclusion proof in the tree of `size` entries (default: that of `latest`, the latest checkpoint). */
  async inclusion(seq: number, size: number | undefined, latest: SignedCheckpoint | undefined): Promise<InclusionProof | undefined> {
    const head = await this.headSeq();
    const n = size ?? latest?.size ?? head;
    if (seq < 1 || seq > n || n > head) return undefined;
    const [proof, root, leaf] = await this.withNodes((node) => [inclusionProof(node, seq - 1, n), treeRoot(node, n), node(0, seq - 1)] as const);
    return {
      seq,
      leafHash: leaf.toString('base64'),
      treeSize: n,
      rootHash: root.toString('base64'),
      inclusionProof: proof.map((h) => h.toString('base64')),
      ...(latest && latest.size === n && { checkpoint: latest.note }),
    };
  }

  async consistency(from: number, to: number): Promise<string[] | undefined> {
    if (from < 1 || from > to || to > (await this.headSeq())) return undefined;
    const proof = await this.withNodes((node) => consistencyProof(node, from, to));
    return proof.map((h) => h.toString('base64'));
  }

  async headSeq(): Promise<number> {
    const { rows } = await this.db.pool.query<{ seq: number }>(`select seq from ${this.t.head}`);
    return rows[0]?.seq ?? 0;
  }

  /**
   * Runs a proof's computation twice: once to learn which complete subtrees it reads, then, with
   * them fetched in one query, for real. Which subtrees a proof reads depends only on sizes.
   */
  private async withNodes<T>(compute: (node: NodeSource) => T): Promise<T> {
    const wanted = new Map<number, [number, number]>();
    const blank = Buffer.alloc(32);
    compute((level, index) => {
      wanted.set(nodeId(level, index), [level, index]);
      return blank;
    });
    const want = [...wanted.values()];
    const leaves = want.filter(([l]) => l === 0).map(([, i]) => i + 1);
    const inner = want.filter(([l]) => l > 0);
    const known = new Map<number, Buffer>();
    const [a, b] = await Promise.all([
      this.db.pool.query<{ seq: number; leaf: Buffer }>(`select seq, leaf from ${this.t.entries} where seq = any($1::bigint[])`, [leaves]),
      this.db.pool.query<{ level: number; idx: number; hash: Buffer }>(
        `select n.level, n.idx, n.hash from ${this.t.nodes} n join unnest($1::smallint[], $2::bigint[]) as w(level, idx) on n.level = w.level and n.idx = w.idx`,
        [inner.map(([l]) => l), inner.map(([, i]) => i)],
      ),
    ]);
    for (const r of a.rows) known.set(nodeId(0, r.seq - 1), r.leaf);
    for (const r of b.rows) known.set(nodeId(r.level, r.idx), r.hash);
    return compute(nodeSource(known));
  }

  async get(id: string): Promise<LogEntry | undefined> {
    if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) return undefined;
    const { rows } = await this.db.pool.query<{ line: string }>(`select line from ${this.t.entries} where id = $1 and line is not null and ${this.shown}`, [id]);
    return rows[0] && (JSON.parse(rows[0].line) as LogEntry);
  }

  async list(filter: ListFilter, page: { before?: number; limit: number }): Promise<Page> {
    const params: unknown[] = [];
    const arg = (v: unknown): string => `$${params.push(v)}`;
    const where = [`kind = any(${arg(filter.kinds)}::text[])`, 'line is not null', this.shown];
    const eq: [keyof ListFilter, string][] = [
      ['provider', 'provider'],
      ['recipient', 'recipient'],
      ['purpose', 'purpose'],
      ['legalBasis', 'legal_basis'],
      ['caseReference', 'case_reference'],
      ['callerKey', 'caller_key'],
      ['decision', 'decision'],
    ];
    for (const [key, column] of eq) if (filter[key] !== undefined) where.push(`${column} = ${arg(filter[key])}`);
    if (filter.category !== undefined) where.push(`categories @> array[${arg(filter.category)}::text]`);
    if (filter.rule !== undefined) where.push(`rules @> array[${arg(filter.rule)}::text]`);
    if (filter.from !== undefined) where.push(`at_ms >= ${arg(filter.from)}`);
    if (filter.to !== undefined) where.push(`at_ms <= ${arg(filter.to)}`);
    if (page.before !== undefined) where.push(`seq < ${arg(page.before)}`);
    const { rows } = await this.db.pool.query<{ line: string }>(
      `select line from ${this.t.entries} where ${where.join(' and ')} order by seq desc limit ${arg(page.limit + 1)}`,
      params,
    );
    const items = rows.slice(0, page.limit).map((r) => JSON.parse(r.line) as LogEntry);
    const last = items[items.length - 1];
    return rows.length > page.limit && last ? { items, next: last.seq } : { items };
  }

  async *entries(range: { from?: number; to?: number } = {}): AsyncIterable<LogEntry> {
    const { rows } = await this.db.pool.query<{ seq: number }>(`select ${this.durableSeq} as seq`);
    for await (const row of this.rows(range, rows[0]?.seq ?? 0)) yield JSON.parse(row.line) as LogEntry;
  }

  /**
   * The last entry known durable: the largest seq a replica's durable commit covered (log_flush).
   * Never past the head: the service writes an entry and moves the head in one transaction, so a
   * row past it was put there by someone else, and is not the log's (verify names it).
   */
  private get durableSeq(): string {
    return `(select least(coalesce(max(f.seq), 0), (select seq from ${this.t.head})) from ${this.t.flush} f)`;
  }

  /** What reads show: entries that are durable, so none that a crash of the database could take back. */
  private get shown(): string {
    return `seq <= ${this.durableSeq}`;
  }

  /**
   * The leaf hashes of the entries in order, from their text (never from the stored leaf column),
   * after the prefix retention pruned, whose compact range the head keeps (`prefix`).
   */
  async leaves(): Promise<{ prefix?: { size: number; hashes: Buffer[] }; leaves: AsyncIterable<Buffer> }> {
    const head = (await this.db.pool.query<HeadRow>(`select pruned_seq, pruned_frontier from ${this.t.head}`)).rows[0];
    const after = head?.pruned_seq ?? 0;
    const rows = this.rows({}, Number.MAX_SAFE_INTEGER, after);
    async function* leaves(): AsyncIterable<Buffer> {
      for await (const row of rows) yield leafOfLine(row.line);
    }
    return { ...(after > 0 && { prefix: { size: after, hashes: frontierOf(head?.pruned_frontier ?? '') } }), leaves: leaves() };
  }

  /** Stored rows in seq order, a page at a time; within a period, only its entries. */
  private async *rows(range: { from?: number; to?: number } = {}, last = Number.MAX_SAFE_INTEGER, after = 0): AsyncIterable<{ seq: number; line: string; leaf: Buffer }> {
    const bound: string[] = [];
    const params: unknown[] = [];
    if (range.from !== undefined) bound.push(`at_ms >= $${params.push(range.from)}`);
    if (range.to !== undefined) bound.push(`at_ms <= $${params.push(range.to)}`);
    let lo = after;
    let hi = last;
    if (bound.length > 0) {
      // Times grow with seq but for a little slack: the period's seqs first, then a scan of them.
      const { rows } = await this.db.pool.query<{ lo: number | null; hi: number | null }>(`select min(seq) as lo, max(seq) as hi from ${this.t.entries} where ${bound.join(' and ')}`, params);
      if (rows[0]?.lo == null || rows[0].hi == null) return;
      lo = rows[0].lo - 1;
      hi = rows[0].hi;
    }
    for (;;) {
      const at = params.length;
      const { rows } = await this.db.pool.query<{ seq: number; line: string; leaf: Buffer }>(
        `select seq, line, leaf from ${this.t.entries} where seq > $${at + 1} and seq <= $${at + 2} and line is not null ${bound.map((b) => `and ${b}`).join(' ')} order by seq limit ${PAGE}`,
        [...params, lo, hi],
      );
      yield* rows;
      const last = rows[rows.length - 1];
      if (!last || rows.length < PAGE) return;
      lo = last.seq;
    }
  }

  /**
   * The chain from the first entry, each entry's leaf against its text, and the head against what
   * the entries make: the seq, the hash and the tree's root at the latest checkpoint.
   */
  async verify(): Promise<Verification> {
    const head = (await this.db.pool.query<HeadRow>(`select * from ${this.t.head}`)).rows[0];
    if (!head) return { ok: false, entries: 0, firstBad: { problem: 'truncated', message: `the log's head is missing from ${this.t.head}` } };
    // Pruned entries were verified when they were written; their leaves must still make the range
    // the head keeps of them, and the rest must follow on from the last of them.
    const prefix = CompactRange.empty();
    for await (const leaf of this.storedLeaves(0, head.pruned_seq)) prefix.push(leaf);
    const pruned = head.pruned_seq > 0 ? { count: head.pruned_count, seq: head.pruned_seq, hash: head.pruned_hash ?? '' } : undefined;
    if (frontierText(prefix) !== head.pruned_frontier || prefix.count !== head.pruned_seq) {
      return { ok: false, entries: 0, ...(pruned && { pruned }), firstBad: { seq: head.pruned_seq, problem: 'altered', message: `the leaves of the ${head.pruned_seq} pruned entries do not make the range the head keeps of them` } };
    }
    const range = CompactRange.of(head.pruned_seq, prefix.subtrees());
    let checkpointRoot: string | undefined;
    let badLeaf: number | undefined;
    // up to the head as read: entries appended meanwhile are not the verification's
    const rows = this.rows({}, head.seq, head.pruned_seq);
    async function* lines(): AsyncIterable<Line> {
      for await (const row of rows) {
        const leaf = leafOfLine(row.line);
        if (badLeaf === undefined && !leaf.equals(row.leaf)) badLeaf = row.seq;
        range.push(leaf);
        if (range.count === head?.checkpoint_size) checkpointRoot = range.root().toString('base64');
        yield { text: row.line, line: row.seq };
      }
    }
    const verified = await verifyLines(lines(), pruned);
    const v = pruned ? { ...verified, pruned } : verified;
    if (!v.ok) return v;
    const at = v.head?.seq ?? head.pruned_seq;
    const bad = (seq: number, problem: 'altered' | 'truncated', message: string): Verification => ({ ...v, ok: false, firstBad: { seq, problem, message } });
    if (badLeaf !== undefined) return bad(badLeaf, 'altered', `entry ${badLeaf}'s leaf hash does not match its content`);
    if (head.seq > at) return bad(at + 1, 'truncated', `the head says ${head.seq} entries, the log holds ${at}: entries were cut off the end`);
    if (head.seq < at || (head.seq > 0 && head.hash !== (v.head?.hash ?? pruned?.hash))) return bad(head.seq + 1, 'altered', `the head (entry ${head.seq}, ${head.hash}) is not the last entry the log holds`);
    if (frontierText(range) !== head.frontier) return bad(at, 'altered', `the tree's stored range does not match the entries`);
    if (head.checkpoint_size !== null && head.checkpoint_size > head.pruned_seq && checkpointRoot !== head.checkpoint_root) {
      return bad(head.checkpoint_size, 'altered', `the latest checkpoint's root does not match the first ${head.checkpoint_size} entries`);
    }
    // against the head as it is now: entries appended meanwhile came with their head
    const past = (await this.db.pool.query<{ first: number | null; n: number }>(`select min(seq) as first, count(*)::int as n from ${this.t.entries} where seq > (select seq from ${this.t.head})`)).rows[0];
    if (past?.first != null) return bad(past.first, 'altered', `${past.n} row${past.n === 1 ? '' : 's'} past the log's head, from entry ${past.first}: not written by the service`);
    return v;
  }

  /** The stored leaf hashes of the entries after `after` up to `last`, in order. */
  async *storedLeaves(after: number, last: number): AsyncIterable<Buffer> {
    for (let lo = after; lo < last; ) {
      const { rows } = await this.db.pool.query<{ seq: number; leaf: Buffer }>(`select seq, leaf from ${this.t.entries} where seq > $1 and seq <= $2 order by seq limit ${PAGE}`, [lo, last]);
      for (const r of rows) yield r.leaf;
      const tail = rows[rows.length - 1];
      if (!tail) return;
      lo = tail.seq;
    }
  }
}
