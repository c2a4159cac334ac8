// Every policy version ever loaded, kept under its policyVersion, so that any recorded decision
// can be evaluated again exactly as it was. The index of versions is small state: lowdb.
import { readFile, readdir, access } from 'node:fs/promises';
import { digestOf, policyVersionOf } from '../compile/version.js';
import { join } from 'node:path';
import { makeDir, openState, writeDurably, type State } from '../small-state.js';

export interface ArchivedFile {
  readonly name: string;
  readonly text: string;
}

interface Index {
  versions: { policyVersion: string; firstLoadedAt: string; files: string[] }[];
}

export class PolicyArchive {
  private constructor(
    /** the archive's folder, where the review thread verifies it */
    readonly dir: string,
    private readonly index: State<Index>,
  ) {}

  static async open(dir: string): Promise<PolicyArchive> {
    await makeDir(join(dir, 'versions'));
    const index = await openState<Index>(join(dir, 'index.json'), { versions: [] });
    return new PolicyArchive(dir, index);
  }

  private path(policyVersion: string): string {
    return versionPath(this.dir, policyVersion);
  }

  /** Stores a version's files unless they are stored already. */
  put(policyVersion: string, files: readonly ArchivedFile[], at: string): Promise<void> {
    return this.putText(policyVersion, files.map((f) => f.name), at, archiveText(policyVersion, files));
  }

  /**
   * As put, with the files as their archiveText, made where the version was compiled: megabytes
   * for a large covenant, not serialised again on the service's thread.
   */
  async putText(policyVersion: string, names: readonly string[], at: string, text: string): Promise<void> {
    const path = this.path(policyVersion);
    const exists = await access(path).then(() => true, () => false);
    if (!exists) {
      // Durable before any decision under this version is answered: the loader waits for it.
      await writeDurably(path, text);
    }
    if (!this.index.data.versions.some((v) => v.policyVersion === policyVersion)) {
      await this.index.update((d) => {
        d.versions.push({ policyVersion, firstLoadedAt: at, files: [...names] });
      });
    }
  }

  /** Every version archived, in the order each first went live. */
  versions(): readonly { readonly policyVersion: string; readonly firstLoadedAt: string; readonly files: readonly string[] }[] {
    return this.index.data.versions;
  }

  get(policyVersion: string): Promise<readonly ArchivedFile[] | undefined> {
    return readArchived(this.dir, policyVersion);
  }

  verify(): Promise<{ ok: boolean; altered: string[] }> {
    return verifyArchive(this.dir);
  }
}

const versionPath = (dir: string, policyVersion: string): string => join(dir, 'versions', `${policyVersion.replace(/^sha256:/, '')}.json`);

/** An archived version's files, read from the archive's folder (by the review thread too), or none. */
export async function readArchived(dir: string, policyVersion: string): Promise<readonly ArchivedFile[] | undefined> {
  if (!/^sha256:[0-9a-f]{64}$/.test(policyVersion)) return undefined;
  try {
    return (JSON.parse(await readFile(versionPath(dir, policyVersion), 'utf8')) as { files: ArchivedFile[] }).files;
  } catch {
    return undefined;
  }
}

/** An archived version's file: its name and its files, as JSON. */
/** How a version is kept: its files' names and texts under its policyVersion, as JSON. */
export const archiveText = (policyVersion: string, files: readonly ArchivedFile[]): string =>
  JSON.stringify({ policyVersion, files: files.map((f) => ({ name: f.name, text: f.text })) });

/**
 * Checks every archived version against its name, without changing anything: its files must hash
 * to the policyVersion they are kept under, so a replay evaluates exactly what was in force.
 */
export async function verifyArchive(dir: string): Promise<{ ok: boolean; altered: string[] }> {
  const altered: string[] = [];
  const files = await readdir(join(dir, 'versions')).catch(() => [] as string[]);
  for (const f of files.filter((x) => x.endsWith('.json'))) {
    const expected = `sha256:${f.slice(0, -'.json'.length)}`;
    try {
      const text = await readFile(join(dir, 'versions', f), 'utf8');
      const stored = JSON.parse(text) as { files: ArchivedFile[] };
      const actual = policyVersionOf(stored.files.map((x) => ({ name: x.name, digest: digestOf(x.text) })));
      // Byte for byte as put() wrote it, so that no byte can change unnoticed, not even one that
      // replay does not read or one that parses the same.
      if (actual !== expected || text !== archiveText(expected, stored.files)) altered.push(expected);
    } catch {
      altered.push(expected);
    }
  }
  return { ok: altered.length === 0, altered };
}
