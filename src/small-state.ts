// The small state beside the decision log (keys, the log's manifest, the index of policy versions)
// in lowdb, and the few files written whole (archived policy versions, a quarantined torn tail).
//
// lowdb's own JSONFile writes a temporary file and renames it, without fsync. After a power loss
// such a file can be empty (ext4 without a journal, as on these machines, XFS, ...): a revoked key
// would be valid again, an archived policy version could not be replayed, and a damaged manifest
// stops the service from starting. Here the data is fsynced before the rename (write-file-atomic)
// and the folder after it, so a file is the old one or the new one, and the new one once the write
// has returned.
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import writeFileAtomic from 'write-file-atomic';

/** A JSON document of small state, read at open and written whole on every change. */
export type State<T> = Low<T>;

/** Writes `text` to `path` so that it survives a power loss once this has returned. */
export async function writeDurably(path: string, text: string | Buffer, mode = PRIVATE_FILE): Promise<void> {
  await writeFileAtomic(path, text, { fsync: true, mode });
  await syncDir(dirname(path));
}

/**
 * The data folder holds who asked what about whom: its folders and files are its owner's alone
 * (0700, 0600), whatever the umask.
 */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/** Makes a folder and its missing parents (owner only), each recorded in the folder above it before returning. */
export async function makeDir(dir: string): Promise<void> {
  const target = resolve(dir);
  const first = await mkdir(target, { recursive: true, mode: PRIVATE_DIR });
  if (first === undefined) return;
  for (let d = target; ; d = dirname(d)) {
    await syncDir(dirname(d));
    if (d === resolve(first) || d === dirname(d)) return;
  }
}

/** Makes a new or renamed entry of `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // some file systems cannot fsync a directory; the file's own fsync still holds
  } finally {
    await fh.close();
  }
}

/** lowdb's adapter for a JSON file, written durably; text as lowdb's JSONFile writes it. */
class DurableJsonFile<T> implements Adapter<T> {
  constructor(private readonly path: string) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(`${this.path} is not valid JSON: it was damaged or altered`);
    }
  }

  write(data: T): Promise<void> {
    return writeDurably(this.path, JSON.stringify(data, null, 2));
  }
}

/** Opens (or starts with `defaults`) the small state kept in the JSON file at `path`. */
export async function openState<T>(path: string, defaults: T): Promise<State<T>> {
  const db = new Low<T>(new DurableJsonFile<T>(path), defaults);
  await db.read();
  return db;
}

/**
 * Small state that more than one process changes (API keys, prior approvals, the index of policy
 * versions): in a file here, or in a row of PostgreSQL shared by replicas (src/audit/pg-state.ts).
 */
export interface SharedState<T> {
  readonly data: T;
  /** Re-reads the state if another process changed it; true when it had changed. */
  refresh(): Promise<boolean>;
  /** Applies `edit` to the state as stored now, with other writers held off, and stores the result. */
  change<R>(edit: (data: T) => R): Promise<R>;
}

/** Shared state in a JSON file: changes under a lock file, re-read when the file's time changes. */
export async function openSharedFile<T>(path: string, defaults: T): Promise<SharedState<T>> {
  await makeDir(dirname(path));
  const db = await openState<T>(path, defaults);
  const mtime = (): Promise<number> => stat(path).then((s) => s.mtimeMs, () => 0);
  let seen = await mtime();
  const refresh = async (force = false): Promise<boolean> => {
    const m = await mtime();
    if (!force && m === seen) return false;
    seen = m;
    await db.read();
    return true;
  };
  return {
    get data() {
      return db.data;
    },
    refresh: () => refresh(),
    async change(edit) {
      // lowdb rewrites the whole file: two processes changing it at once must not lose each
      // other's change. A holder that died leaves its lock; after `stale` ms it is taken over.
      // Imported when first needed: it installs signal handlers (signal-exit) that turn a write
      // past a file size limit from an error (EFBIG, which the log recovers from) into SIGXFSZ.
      const { default: lockfile } = await import('proper-lockfile');
      const release = await lockfile.lock(path, { realpath: false, stale: 10_000, retries: { retries: 100, minTimeout: 10, maxTimeout: 100 } });
      try {
        await refresh(true);
        const result = edit(db.data);
        await db.write();
        seen = await mtime();
        return result;
      } finally {
        await release();
      }
    },
  };
}

/** Shared state that only this process holds: for what one machine keeps in memory. */
export function memoryState<T>(data: T): SharedState<T> {
  return {
    data,
    refresh: async () => false,
    change: async (edit) => edit(data),
  };
}
