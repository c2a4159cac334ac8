// Finding and reading the rule files (CONTRACT 1): every *.yaml, *.yml and *.json under the two
// folders, recursively, in a stable order; *.test.* files are policy tests, not rules.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Diagnostic, ParsedDocument } from '../domain/types.js';
import { compileCovenant, type Compiled } from '../compile/index.js';
import { parseText } from './parse.js';

const DATA_FILE = /\.(ya?ml|json)$/i;
const TEST_FILE = /\.test\.(ya?ml|json)$/i;

export const isTestFile = (path: string): boolean => TEST_FILE.test(path);

export interface Folders {
  readonly policies: string;
  readonly rules: string;
}

/** A file's name in a version: its folder's label and its path under it, with `/` on every system. */
export const documentName = (label: 'policies' | 'rules', root: string, path: string): string => `${label}/${relative(root, path).split('\\').join('/')}`;

/** The policy tests under both folders, named as the rule files are, with their text. */
export async function readTestFiles(folders: Folders): Promise<{ readonly name: string; readonly content: string }[]> {
  const out: { name: string; content: string }[] = [];
  for (const [label, root] of [['policies', folders.policies], ['rules', folders.rules]] as const) {
    for (const path of await listFiles(root).catch(() => [] as string[])) {
      if (isTestFile(path)) out.push({ name: documentName(label, root, path), content: await readFile(path, 'utf8') });
    }
  }
  return out;
}

/** Every data file under a folder, sorted by path; hidden entries and node_modules are skipped. */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.isFile() && DATA_FILE.test(e.name)) out.push(path);
    }
  };
  await walk(root);
  return out;
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export interface Loaded extends Compiled {
  readonly documents: readonly ParsedDocument[];
}

/** Reads, parses and compiles the rule files of both folders. Never throws for a user's mistake. */
export async function loadCovenant(folders: Folders, options: { now?: number } = {}): Promise<Loaded> {
  const diagnostics: Diagnostic[] = [];
  const documents: ParsedDocument[] = [];
  const seen = new Set<string>();
  for (const [label, root] of [
    ['policies', folders.policies],
    ['rules', folders.rules],
  ] as const) {
    if (!(await isFolder(root))) {
      diagnostics.push({ severity: 'error', code: 'missing-folder', message: `the ${label} folder \`${root}\` does not exist`, file: root });
      continue;
    }
    for (const path of await listFiles(root)) {
      if (isTestFile(path)) continue;
      const real = await realpath(path);
      if (seen.has(real)) continue;
      seen.add(real);
      const parsed = parseText(path, await readFile(path, 'utf8'), documentName(label, root, path));
      if (parsed.ok) documents.push(parsed.document);
      else diagnostics.push(...parsed.diagnostics);
    }
  }
  if (diagnostics.length > 0) return { documents, diagnostics };
  return { documents, ...compileCovenant(documents, options) };
}
