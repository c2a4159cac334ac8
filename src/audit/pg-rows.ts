// The rows of the PostgreSQL log: the head's columns, an entry's filter columns, and the Merkle
// tree's nodes as the tables keep them.
import { CompactRange, EMPTY_ROOT, subtreeHash, type NodeSource } from './merkle.js';
import type { LogEntry } from './types.js';

export interface Tables {
  readonly head: string;
  readonly entries: string;
  readonly nodes: string;
  readonly flush: string;
}

/** The log's tables in a schema (quoted). */
export const tables = (schema: string): Tables => ({ head: `${schema}.log_head`, entries: `${schema}.log_entries`, nodes: `${schema}.log_nodes`, flush: `${schema}.log_flush` });

/**
 * The flush row that outlives the replicas: each, when it stops, and migrate hand it the durable
 * seq they recorded, so that readers still show those entries once no replica runs.
 */
export const CLOSED_REPLICA = 'closed';

/** Hands `seq` (an expression) to the row of replicas that stopped; it only ever grows. */
export const toClosedRow = (t: Tables, seq: string): string =>
  `insert into ${t.flush} as f (replica, flushes, seq) values ('${CLOSED_REPLICA}', 0, ${seq}) on conflict (replica) do update set seq = greatest(f.seq, excluded.seq)`;

/** rows a read takes at a time */
export const PAGE = 2000;

export interface HeadRow {
  seq: number;
  hash: string;
  last_id: string | null;
  frontier: string;
  checkpoint_size: number | null;
  checkpoint_root: string | null;
  checkpoint_note: string | null;
  log_key: string | null;
  pruned_seq: number;
  pruned_hash: string | null;
  pruned_count: number;
  pruned_frontier: string;
}

export const COLUMNS = ['seq', 'id', 'at_ms', 'kind', 'provider', 'recipient', 'purpose', 'legal_basis', 'case_reference', 'caller_key', 'decision', 'categories', 'rules', 'line', 'leaf'] as const;

/** What the columns that listing filters on hold for an entry, in COLUMNS' order (but line and leaf). */
export function columnsOf(e: LogEntry): unknown[] {
  const request = 'request' in e && typeof e.request === 'object' && e.request !== null ? (e.request as Record<string, unknown>) : {};
  // PostgreSQL's text holds no NUL character, which a refused body can carry (`"\u0000"`): such a
  // value is not filtered on, rather than failing the batch of every caller it was in. The entry
  // itself keeps it, escaped in its JSON.
  const text = (v: unknown): string | null => (typeof v === 'string' && !v.includes('\u0000') ? v : null);
  const named = Array.isArray(request.dataCategories) ? request.dataCategories.filter((c): c is string => text(c) !== null) : [];
  const categories = new Set<string>();
  // a category and those above it: `a.b.c` is found by `a`, `a.b` and `a.b.c`
  for (const c of named) for (let i = c.indexOf('.'); ; i = c.indexOf('.', i + 1)) {
    categories.add(i === -1 ? c : c.slice(0, i));
    if (i === -1) break;
  }
  const rules = 'decision' in e ? [...new Set(e.decision.categories.flatMap((d) => d.rules))] : [];
  const caseReference = e.kind === 'approval' ? e.approval.caseReference : text(request.caseReference);
  return [
    e.seq,
    e.id,
    Date.parse(e.at),
    e.kind,
    text(request.provider),
    text(request.recipient),
    text(request.purpose),
    text(request.legalBasis),
    caseReference ?? null,
    'caller' in e ? e.caller.keyId : null,
    'decision' in e ? e.decision.decision : null,
    [...categories],
    rules,
  ];
}

export const nodeId = (level: number, index: number): number => index * 64 + level;

export function nodeSource(known: Map<number, Buffer>): NodeSource {
  return (level, index) => {
    const h = known.get(nodeId(level, index));
    if (!h) throw new Error(`the log's tree lacks its subtree at level ${level}, index ${index}`);
    return h;
  };
}

export const treeRoot = (node: NodeSource, size: number): Buffer => (size === 0 ? EMPTY_ROOT : subtreeHash(node, 0, size));

/** The complete subtrees of a compact range (largest first), told as (level, index, hash). */
export function rangeNodes(size: number, hashes: readonly Buffer[], tell: (level: number, index: number, hash: Buffer) => void): void {
  let start = 0;
  let i = 0;
  for (let level = 52; level >= 0; level--) {
    const width = 2 ** level;
    if (Math.floor(size / width) % 2 === 1) {
      tell(level, start / width, hashes[i++] as Buffer);
      start += width;
    }
  }
}

export const frontierOf = (text: string): Buffer[] => (text === '' ? [] : text.split(',').map((h) => Buffer.from(h, 'hex')));
export const frontierText = (range: CompactRange): string => range.subtrees().map((h) => h.toString('hex')).join(',');
