// The small state beside the decision log (keys, the log's manifest, the index of policy versions)
// in lowdb, and the few files written whole (archived policy versions, a quarantined torn tail).
//
// lowdb's own JSONFile writes a temporary file and renames it, without fsync. After a power loss
// such a file can be empty (ext4 without a journal, as on these machines, XFS, ...): a revoked key
// would be valid again, an archived policy version could not be replayed, and a damaged manifest
// stops the service from starting. Here the data is fsynced before the rename (write-file-atomic)
// and the folder after it, so a file is the old one or the new one, and the new one once the write
// has returned.
import { mkdir, open, readFile } from 'node:fs/promises';
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
