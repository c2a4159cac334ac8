// Every policy version ever loaded, kept under its policyVersion, so that any recorded decision
// can be evaluated again exactly as it was. The index of versions is small state: lowdb.
import { mkdir, readFile, rename, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import type { ParsedDocument } from '../domain/types.js';

export interface ArchivedFile {
  readonly name: string;
  readonly text: string;
}

interface Index {
  versions: { policyVersion: string; firstLoadedAt: string; files: string[] }[];
}

export class PolicyArchive {
  private constructor(private readonly dir: string, private readonly index: Low<Index>) {}

  static async open(dir: string): Promise<PolicyArchive> {
    await mkdir(join(dir, 'versions'), { recursive: true });
    const index = new Low<Index>(new JSONFile(join(dir, 'index.json')), { versions: [] });
    await index.read();
    return new PolicyArchive(dir, index);
  }

  private path(policyVersion: string): string {
    return join(this.dir, 'versions', `${policyVersion.replace(/^sha256:/, '')}.json`);
  }

  /** Stores a version's files unless they are stored already. */
  async put(policyVersion: string, files: readonly ArchivedFile[], at: string): Promise<void> {
    const path = this.path(policyVersion);
    const exists = await access(path).then(() => true, () => false);
    if (!exists) {
      await writeFile(`${path}.tmp`, JSON.stringify({ policyVersion, files }));
      await rename(`${path}.tmp`, path);
    }
    if (!this.index.data.versions.some((v) => v.policyVersion === policyVersion)) {
      await this.index.update((d) => {
        d.versions.push({ policyVersion, firstLoadedAt: at, files: files.map((f) => f.name) });
      });
    }
  }

  async get(policyVersion: string): Promise<readonly ArchivedFile[] | undefined> {
    if (!/^sha256:[0-9a-f]{64}$/.test(policyVersion)) return undefined;
    try {
      return (JSON.parse(await readFile(this.path(policyVersion), 'utf8')) as { files: ArchivedFile[] }).files;
    } catch {
      return undefined;
    }
  }

  versions(): Index['versions'] {
    return this.index.data.versions;
  }
}

export const filesOf = (documents: readonly ParsedDocument[]): ArchivedFile[] => documents.map((d) => ({ name: d.name, text: d.text }));
