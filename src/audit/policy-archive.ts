// Every policy version ever loaded, kept under its policyVersion, so that any recorded decision
// can be evaluated again exactly as it was: its files' texts (a file each in the data folder, or a
// row each in PostgreSQL), and an index of versions in shared small state.
import { readFile, readdir, access } from 'node:fs/promises';
import { digestOf, policyVersionOf } from '../compile/version.js';
import { join } from 'node:path';
import { makeDir, openSharedFile, writeDurably, type SharedState } from '../small-state.js';

export interface ArchivedFile {
  readonly name: string;
  readonly text: string;
}

export interface ArchiveIndex {
  versions: { policyVersion: string; firstLoadedAt: string; files: string[] }[];
}

/** Where versions' texts are kept, as archiveText() makes them. */
export interface VersionTexts {
  has(policyVersion: string): Promise<boolean>;
  /** Durable before it resolves: the loader waits for it before any decision under the version. */
  put(policyVersion: string, text: string): Promise<void>;
  read(policyVersion: string): Promise<string | undefined>;
  /** every version kept; `text` undefined when it cannot be read */
  all(): AsyncIterable<{ readonly policyVersion: string; readonly text: string | undefined }>;
}

const POLICY_VERSION = /^sha256:[0-9a-f]{64}$/;

export class PolicyArchive {
  private constructor(
    private readonly index: SharedState<ArchiveIndex>,
    private readonly texts: VersionTexts,
  ) {}

  /** The archive in a folder of the data folder. */
  static async open(dir: string): Promise<PolicyArchive> {
    await makeDir(join(dir, 'versions'));
    return new PolicyArchive(await openSharedFile<ArchiveIndex>(join(dir, 'index.json'), { versions: [] }), folderTexts(dir));
  }

  /** The archive kept elsewhere (PostgreSQL, for replicas). */
  static on(index: SharedState<ArchiveIndex>, texts: VersionTexts): PolicyArchive {
    return new PolicyArchive(index, texts);
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
    if (!(await this.texts.has(policyVersion))) await this.texts.put(policyVersion, text);
    if (!this.index.data.versions.some((v) => v.policyVersion === policyVersion)) {
      await this.index.change((d) => {
        if (!d.versions.some((v) => v.policyVersion === policyVersion)) d.versions.push({ policyVersion, firstLoadedAt: at, files: [...names] });
      });
    }
  }

  /** Every version archived, in the order each first went live. */
  versions(): readonly { readonly policyVersion: string; readonly firstLoadedAt: string; readonly files: readonly string[] }[] {
    return this.index.data.versions;
  }

  /** Re-reads the index if another process (a replica) archived a version. */
  async refresh(): Promise<void> {
    await this.index.refresh();
  }

  get(policyVersion: string): Promise<readonly ArchivedFile[] | undefined> {
    return readArchived(this.texts, policyVersion);
  }

  verify(): Promise<{ ok: boolean; altered: string[] }> {
    return verifyArchive(this.texts);
  }
}

const versionPath = (dir: string, policyVersion: string): string => join(dir, 'versions', `${policyVersion.replace(/^sha256:/, '')}.json`);

/** Versions' texts as files of a folder, one each. */
export function folderTexts(dir: string): VersionTexts {
  return {
    has: (policyVersion) => access(versionPath(dir, policyVersion)).then(() => true, () => false),
    put: (policyVersion, text) => writeDurably(versionPath(dir, policyVersion), text),
    read: (policyVersion) => readFile(versionPath(dir, policyVersion), 'utf8').catch(() => undefined),
    async *all() {
      const files = await readdir(join(dir, 'versions')).catch(() => [] as string[]);
      for (const f of files.filter((x) => x.endsWith('.json'))) {
        yield { policyVersion: `sha256:${f.slice(0, -'.json'.length)}`, text: await readFile(join(dir, 'versions', f), 'utf8').catch(() => undefined) };
      }
    },
  };
}

/** An archived version's files (read by the review thread too), or none. */
export async function readArchived(texts: VersionTexts, policyVersion: string): Promise<readonly ArchivedFile[] | undefined> {
  if (!POLICY_VERSION.test(policyVersion)) return undefined;
  try {
    const text = await texts.read(policyVersion);
    return text === undefined ? undefined : (JSON.parse(text) as { files: ArchivedFile[] }).files;
  } catch {
    return undefined;
  }
}

/** How a version is kept: its files' names and texts under its policyVersion, as JSON. */
export const archiveText = (policyVersion: string, files: readonly ArchivedFile[]): string =>
  JSON.stringify({ policyVersion, files: files.map((f) => ({ name: f.name, text: f.text })) });

/**
 * Checks every archived version against its name, without changing anything: its files must hash
 * to the policyVersion they are kept under, so a replay evaluates exactly what was in force.
 */
export async function verifyArchive(texts: VersionTexts): Promise<{ ok: boolean; altered: string[] }> {
  const altered: string[] = [];
  for await (const { policyVersion: expected, text } of texts.all()) {
    try {
      if (text === undefined) throw new Error('unreadable');
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
