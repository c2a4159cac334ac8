// Where the service keeps its state: the data folder (one machine, the default), or a PostgreSQL
// database that any number of replicas share (`--database`). Both give the same parts; the rest
// of the service does not know which it has.
import type { Logger } from 'pino';
import { SegmentLog, logLines } from './audit/segment-log.js';
import { copyLines } from './audit/pg-migrate.js';
import { verifyAll } from './service/place.js';
import { PgLog } from './audit/pg-log.js';
import { connect, migrate, redacted, type Database } from './audit/pg-schema.js';
import { openSharedRow } from './audit/pg-state.js';
import { pgArchive } from './audit/pg-archive.js';
import { lockLog } from './audit/writer-lock.js';
import { PolicyArchive, archiveText } from './audit/policy-archive.js';
import { KeyStore, type KeyFile } from './keys/store.js';
import { ApprovalRegister, type ApprovalData } from './approvals/register.js';
import { makeDir, type SharedState } from './small-state.js';
import type { SessionDoc } from './http/console/session.js';
import { dataPaths } from './data-paths.js';
import type { NoteSigner } from './audit/note.js';
import type { DecisionLog, Verification } from './audit/types.js';
import type { Place } from './service/place.js';

export interface DatabaseConfig {
  readonly url: string;
  /** the schema covenant's tables are in (default `covenant`) */
  readonly schema?: string;
}

export interface Storage {
  readonly log: DecisionLog;
  readonly keys: KeyStore;
  readonly archive: PolicyArchive;
  readonly approvals: ApprovalRegister;
  /** where the review thread reads the log and the archive */
  readonly place: Place;
  /** console sessions shared by replicas; absent on one machine (they live in memory) */
  readonly consoleSessions?: SharedState<SessionDoc>;
  /** retention: removes what is past it, keeping the log verifiable and every proof valid */
  readonly prune: (before: number) => Promise<{ segments: number; entries: number }>;
  /** re-reads what other processes changed: keys, approvals, archived versions */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export interface StorageOptions {
  readonly dataDir: string;
  readonly database?: DatabaseConfig;
  readonly signer: NoteSigner;
  readonly receipts: boolean;
  readonly logger: Logger;
  readonly onWrite: (seconds: number) => void;
}

const onFailure = (logger: Logger) => (e: Error): void =>
  logger.error({ err: { message: e.message, code: (e as NodeJS.ErrnoException).code } }, 'the decision log cannot write: decisions are answered 503 (or checkpoints stopped) and /readyz is not ready until it can; retried every second');

export async function openStorage(options: StorageOptions): Promise<Storage> {
  const storage = await (options.database ? databaseStorage(options, options.database) : folderStorage(options));
  // Closed once, whoever asks first: a service that fails while starting closes what it opened.
  let closing: Promise<void> | undefined;
  return { ...storage, close: () => (closing ??= storage.close()) };
}

async function folderStorage(options: StorageOptions): Promise<Storage> {
  const paths = dataPaths(options.dataDir);
  await makeDir(paths.log);
  // Before the log is opened, which may already write (a torn tail set aside); held until close.
  const lock = await lockLog(paths.log);
  try {
    const { logger } = options;
    const log = await SegmentLog.open(paths.log, {
      onWrite: options.onWrite,
      // Loud: the cause, once, when the log stops taking entries or checkpoints; and when it is back.
      onFailure: onFailure(logger),
      onRecovered: (d) => logger.warn(d.quarantined ? { quarantined: d.quarantined } : {}, 'the decision log is writable again'),
      ...(options.receipts ? { signer: options.signer } : { tree: false }),
    });
    if (log.recovery) {
      logger.warn({ bytes: log.recovery.bytes, sha256: log.recovery.sha256, quarantinedTo: log.recovery.quarantinedTo }, 'torn last log entry from an interrupted write set aside; a recovery entry records it');
    }
    const [keys, archive, approvals] = await Promise.all([KeyStore.open(paths.keys), PolicyArchive.open(paths.policies), ApprovalRegister.open(paths.approvals)]);
    return {
      log,
      keys,
      archive,
      approvals,
      place: { kind: 'folder', logDir: paths.log, archiveDir: paths.policies },
      prune: (before) => log.prune(before),
      refresh: async () => {
        await keys.refresh();
        await approvals.refresh();
      },
      close: async () => {
        await log.close();
        await lock.release();
      },
    };
  } catch (e) {
    await lock.release();
    throw e;
  }
}

async function databaseStorage(options: StorageOptions, config: DatabaseConfig): Promise<Storage> {
  const schema = config.schema ?? 'covenant';
  let db: Database;
  try {
    db = connect(config.url, schema);
  } catch (e) {
    throw new Error(`--database ${redacted(config.url)}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const { logger } = options;
    const log = await PgLog.open(db, {
      onWrite: options.onWrite,
      onFailure: onFailure(logger),
      onRecovered: () => logger.warn('the decision log is writable again'),
      ...(options.receipts && { signer: options.signer }),
    });
    const keys = KeyStore.on(await openSharedRow<KeyFile>(db, 'keys', { keys: [] }));
    const approvals = ApprovalRegister.on(await openSharedRow<ApprovalData>(db, 'approvals', { approvals: [] }));
    const archive = await pgArchive(db);
    const consoleSessions = await openSharedRow<SessionDoc>(db, 'console-sessions', { sessions: {} });
    return {
      log,
      keys,
      archive,
      approvals,
      place: { kind: 'database', url: config.url, schema, archive: true },
      consoleSessions,
      prune: (before) => log.prune(before),
      refresh: async () => {
        await keys.refresh();
        await approvals.refresh();
        await archive.refresh();
        // a sign-out on another replica holds here within a second too
        await consoleSessions.refresh();
      },
      close: async () => {
        await log.close();
        await db.pool.end();
      },
    };
  } catch (e) {
    await db.pool.end();
    const message = (e as Error).message;
    throw new Error(`the database at ${redacted(config.url)}: ${message}`, { cause: e });
  }
}

/** The API keys, in the data folder or the database, for `work` (a `covenant keys` command). */
export async function withKeys<T>(dataDir: string, database: DatabaseConfig | undefined, work: (keys: KeyStore) => Promise<T>): Promise<T> {
  if (!database) return work(await KeyStore.open(dataPaths(dataDir).keys));
  const db = connect(database.url, database.schema ?? 'covenant', 2);
  try {
    let keys: KeyStore;
    try {
      await migrate(db);
      keys = KeyStore.on(await openSharedRow<KeyFile>(db, 'keys', { keys: [] }));
    } catch (e) {
      throw new Error(`the database at ${redacted(database.url)}: ${(e as Error).message}`, { cause: e });
    }
    return await work(keys);
  } finally {
    await db.pool.end();
  }
}

export interface Migrated {
  readonly entries: number;
  readonly keys: number;
  readonly approvals: number;
  readonly versions: number;
  /** the copy's own verification, against the folder's head */
  readonly verified: Verification;
}

/**
 * Copies the data folder's log, keys, approvals and policy archive into an empty database, then
 * verifies the copy. The folder must verify, and hold its log from the first entry on.
 */
export async function migrateFolder(dataDir: string, database: DatabaseConfig, signer: NoteSigner): Promise<Migrated> {
  const paths = dataPaths(dataDir);
  const source = await verifyAll({ kind: 'folder', logDir: paths.log, archiveDir: paths.policies });
  if (!source.ok) throw new Error(`the log in ${paths.log} does not verify (${source.firstBad?.message ?? 'unknown problem'}); nothing was copied`);
  const { pruned, lines } = await logLines(paths.log);
  if (pruned) throw new Error(`the log in ${paths.log} was pruned by retention up to entry ${pruned.seq}: only a log kept from its first entry can be copied yet`);
  const db = connect(database.url, database.schema ?? 'covenant', 2);
  try {
    await migrate(db);
    const [keys, approvals, archive] = await Promise.all([
      openSharedRow<KeyFile>(db, 'keys', { keys: [] }),
      openSharedRow<ApprovalData>(db, 'approvals', { approvals: [] }),
      pgArchive(db),
    ]);
    if (keys.data.keys.length > 0 || approvals.data.approvals.length > 0 || archive.versions().length > 0) {
      throw new Error('the database already holds keys, approvals or policy versions: migrate copies into an empty one');
    }
    const copied = await copyLines(db, lines, signer);
    const [fromKeys, fromApprovals, fromArchive] = await Promise.all([KeyStore.open(paths.keys), ApprovalRegister.open(paths.approvals), PolicyArchive.open(paths.policies)]);
    await keys.change((d) => void d.keys.push(...fromKeys.list()));
    await approvals.change((d) => void d.approvals.push(...fromApprovals.list().slice().reverse()));
    for (const v of fromArchive.versions()) {
      const files = await fromArchive.get(v.policyVersion);
      if (!files) throw new Error(`archived policy version ${v.policyVersion} cannot be read`);
      await archive.putText(v.policyVersion, v.files, v.firstLoadedAt, archiveText(v.policyVersion, files));
    }
    const copy = await verifyAll({ kind: 'database', url: database.url, schema: database.schema ?? 'covenant', archive: true });
    const same = copy.ok && copy.entries === source.entries && copy.head?.hash === source.head?.hash;
    return {
      entries: copied.entries,
      keys: fromKeys.list().length,
      approvals: fromApprovals.list().length,
      versions: fromArchive.versions().length,
      verified: same || !copy.ok ? copy : { ...copy, ok: false, firstBad: { problem: 'truncated', message: `the copy ends at ${copy.head?.seq ?? 0} ${copy.head?.hash ?? ''}, the folder at ${source.head?.seq ?? 0} ${source.head?.hash ?? ''}` } },
    };
  } finally {
    await db.pool.end();
  }
}
