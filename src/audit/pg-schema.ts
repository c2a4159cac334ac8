// The tables covenant keeps in PostgreSQL, in a schema of their own (`covenant` unless told
// otherwise): the decision log, its Merkle tree and head, and the state that every replica shares
// (API keys, the archive of policy versions, prior approvals).
import pg from 'pg';

/** A schema name as covenant accepts it: plain, so it needs no quoting rules of its own. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface Database {
  readonly pool: pg.Pool;
  /** the schema, quoted, to put before a table's name */
  readonly schema: string;
}

// INT8 as a number: seq and times stay far below 2^53.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/**
 * A pool on `url`. A server that is down or unreachable must fail an answer within a second, not
 * hold it: connecting gives up after a second and a statement after ten (a commit on a slow disk
 * takes far less).
 */
export function connect(url: string, schema = 'covenant', max = 8): Database {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`\`${schema}\` is not a schema name covenant uses: lower-case letters, digits and _`);
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 1000, query_timeout: 10_000, types, application_name: 'covenant', allowExitOnIdle: true, options: '-c synchronous_commit=on' });
  // A connection that the server closes (a shutdown, a restart) is an event, not a crash: idle in
  // the pool, or checked out between two statements (a batch's lock held while its checkpoint is
  // signed), where pg emits the error on the client, which with no listener ended the process.
  // The next statement on it fails, and that failure is handled where it is made.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return { pool, schema: `"${schema}"` };
}

/**
 * Runs `work` in a transaction on a connection of its own and commits; rolls back and rethrows if
 * anything fails, and then does not give the connection back to the pool (it may be broken).
 * `begin` may carry more statements in the same round trip (their results go to `work`), and
 * `commit` may put statements before the commit, chosen by what `work` returned.
 */
export async function inTransaction<T>(
  db: Database,
  work: (client: pg.PoolClient, opened: readonly pg.QueryResult[]) => Promise<T>,
  how: { readonly begin?: string; readonly commit?: (value: T) => string } = {},
): Promise<T> {
  const client = await db.pool.connect();
  let broken: Error | undefined;
  try {
    const opened = (await client.query(how.begin ?? 'begin')) as pg.QueryResult | pg.QueryResult[];
    const value = await work(client, Array.isArray(opened) ? opened : [opened]);
    await client.query(how.commit?.(value) ?? 'commit');
    return value;
  } catch (e) {
    broken = e instanceof Error ? e : new Error(String(e));
    await client.query('rollback').catch(() => undefined);
    throw broken;
  } finally {
    client.release(broken);
  }
}

/** The URL without its password, to say in a message or a log line. */
export function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(a database URL that cannot be parsed)';
  }
}

/**
 * Creates what is missing, once, under an advisory lock: replicas that start together must not
 * race to create the same tables.
 */
export async function migrate(db: Database): Promise<void> {
  const s = db.schema;
  const enc = await db.pool.query<{ server_encoding: string }>('show server_encoding');
  // Entries are stored as the exact text their hashes were taken over: only UTF-8 keeps every byte.
  if (enc.rows[0]?.server_encoding !== 'UTF8') throw new Error(`the database's encoding is ${enc.rows[0]?.server_encoding}; covenant needs UTF8 (createdb -E UTF8)`);
  await inTransaction(db, async (client) => {
    await client.query(`select pg_advisory_xact_lock(hashtext('covenant schema ' || $1))`, [s]);
    await client.query(`
    create schema if not exists ${s};
    create table if not exists ${s}.log_head (
      one boolean primary key default true check (one),
      seq bigint not null,
      hash text not null,
      last_id text,
      -- the compact range of the tree's leaves: hex hashes of complete subtrees, largest first
      frontier text not null default '',
      -- the latest signed checkpoint
      checkpoint_size bigint,
      checkpoint_root text,
      checkpoint_note text,
      -- the verifier key that signs: every replica must sign with the same one
      log_key text,
      -- the prefix retention removed the entries of (their leaves stay, for proofs): its last seq
      -- and hash, how many, and the compact range of its leaves
      pruned_seq bigint not null default 0,
      pruned_hash text,
      pruned_count bigint not null default 0,
      pruned_frontier text not null default ''
    );
    insert into ${s}.log_head (seq, hash) values (0, 'sha256:${'0'.repeat(64)}') on conflict do nothing;
    create table if not exists ${s}.log_entries (
      seq bigint primary key,
      id text not null unique,
      at_ms bigint not null,
      kind text not null,
      provider text,
      recipient text,
      purpose text,
      legal_basis text,
      case_reference text,
      caller_key text,
      decision text,
      -- every category named, with the categories above it: a filter on one finds those under it
      categories text[],
      rules text[],
      -- the entry exactly as its hash was taken over (null once retention pruned it), and its leaf hash
      line text,
      leaf bytea not null
    );
    create index if not exists log_entries_provider on ${s}.log_entries (provider, seq);
    create index if not exists log_entries_recipient on ${s}.log_entries (recipient, seq);
    create index if not exists log_entries_purpose on ${s}.log_entries (purpose, seq);
    create index if not exists log_entries_at on ${s}.log_entries (at_ms);
    create index if not exists log_entries_categories on ${s}.log_entries using gin (categories);
    -- the tree's complete subtrees above the leaves (level >= 1), for proofs of any entry
    create table if not exists ${s}.log_nodes (
      level smallint not null,
      idx bigint not null,
      hash bytea not null,
      primary key (level, idx)
    );
    -- a row per running replica: the write whose synchronous commit makes its batches durable,
    -- and the head's seq that commit covered. Readers show entries up to the largest such seq:
    -- one committed asynchronously but not yet flushed could still be lost, and is not shown.
    create table if not exists ${s}.log_flush (
      replica text primary key,
      flushes bigint not null,
      seq bigint not null default 0
    );
    alter table ${s}.log_flush add column if not exists seq bigint not null default 0;
    -- small shared state, a JSON document a row: API keys, prior approvals, the archive's index
    create table if not exists ${s}.state (
      name text primary key,
      doc text not null,
      version bigint not null
    );
    -- every policy version that went live, as archiveText() keeps it
    create table if not exists ${s}.policy_versions (
      policy_version text primary key,
      text text not null
    );
  `);
  });
}
