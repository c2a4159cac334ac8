// Where the log and the archive of policy versions are: a data folder, or a PostgreSQL database
// shared by replicas. Plain data, so that the review thread is told it in a message and opens its
// own read-only view.
import { SegmentLog, verifyDirectory } from '../audit/segment-log.js';
import { PgLog } from '../audit/pg-log.js';
import { connect, type Database } from '../audit/pg-schema.js';
import { pgArchive, pgTexts } from '../audit/pg-archive.js';
import { PolicyArchive, folderTexts, verifyArchive, type VersionTexts } from '../audit/policy-archive.js';
import { logLeaves } from '../audit/segment-log.js';
import { withArchive } from '../audit/verify.js';
import type { DecisionLog, Verification } from '../audit/types.js';

export type Place =
  | { readonly kind: 'folder'; readonly logDir: string; readonly archiveDir?: string }
  | { readonly kind: 'database'; readonly url: string; readonly schema: string; readonly archive: boolean };

/** One pool a database for the readers of this thread, made on first use. */
const pools = new Map<string, Database>();

function database(place: Extract<Place, { kind: 'database' }>): Database {
  const key = `${place.url}\n${place.schema}`;
  let db = pools.get(key);
  if (!db) pools.set(key, (db = connect(place.url, place.schema, 2)));
  return db;
}

/** A read-only view of the log: what was written up to now, also by other processes. */
export function readLog(place: Place): Promise<DecisionLog> {
  return place.kind === 'folder' ? SegmentLog.open(place.logDir, { readOnly: true }) : PgLog.open(database(place), { readOnly: true });
}

/** Work on a read-only view of the log, opened for the work and closed after it. */
export async function reading<T>(place: Place, work: (log: DecisionLog) => Promise<T>): Promise<T> {
  const log = await readLog(place);
  try {
    return await work(log);
  } finally {
    await log.close();
  }
}

/** The archive's texts, where there is an archive. */
export function archiveTexts(place: Place): VersionTexts | undefined {
  if (place.kind === 'folder') return place.archiveDir === undefined ? undefined : folderTexts(place.archiveDir);
  return place.archive ? pgTexts(database(place)) : undefined;
}

/** The log's verification, with the archived policy versions' when there is an archive. */
export async function verifyAll(place: Place): Promise<Verification> {
  const log = place.kind === 'folder' ? await verifyDirectory(place.logDir) : await reading(place, (l) => l.verify());
  const texts = archiveTexts(place);
  return withArchive(log, texts && (await verifyArchive(texts)));
}

/** The archive of policy versions, where the place has one. */
export async function openArchive(place: Place): Promise<PolicyArchive | undefined> {
  if (place.kind === 'folder') return place.archiveDir === undefined ? undefined : PolicyArchive.open(place.archiveDir);
  return place.archive ? pgArchive(database(place)) : undefined;
}

/** The leaf hashes of the log's entries in order, after the prefix retention removed (its compact range). */
export async function leavesAt(place: Place): Promise<{ prefix?: { size: number; hashes: Buffer[] }; leaves: AsyncIterable<Buffer> }> {
  if (place.kind === 'folder') return logLeaves(place.logDir);
  return (await PgLog.open(database(place), { readOnly: true })).leaves();
}
