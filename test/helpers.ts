// Shared test helpers: real files in temporary folders, the real CLI in a child process.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Covenant } from '../src/domain/covenant.js';
import type { Diagnostic, ParsedDocument } from '../src/domain/types.js';
import { parseText } from '../src/loader/parse.js';
import { compileCovenant } from '../src/compile/index.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(ROOT, 'bin', 'covenant.js');

export function doc(name: string, content: unknown): ParsedDocument {
  const parsed = parseText(name, typeof content === 'string' ? content : JSON.stringify(content, null, 1));
  if (!parsed.ok) throw new Error(`test document ${name} does not parse: ${parsed.diagnostics[0]?.message}`);
  return parsed.document;
}

export function compileDocs(...docs: ParsedDocument[]): { covenant?: Covenant; diagnostics: readonly Diagnostic[] } {
  return compileCovenant(docs);
}

/** Compiles or fails the test with the diagnostics. */
export function mustCompile(...docs: ParsedDocument[]): Covenant {
  const { covenant, diagnostics } = compileCovenant(docs);
  if (!covenant) throw new Error(`covenant does not compile:\n${diagnostics.map((d) => `${d.file}:${d.line}: ${d.message}`).join('\n')}`);
  return covenant;
}

/** Writes files (path -> text) under a fresh temporary folder and returns it. */
export function tempTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'covenant-test-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], options: { cwd?: string; input?: string; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** As cli(), without blocking this process: for commands that talk to a service running in it. */
export function cliAsync(args: string[], options: { env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A small valid covenant to build variations on. */
export const basePolicies = {
  covenant: { id: 't', title: 'Test', validFrom: '2025-01-01', validUntil: '2025-12-31' },
  partners: [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
  dataCategories: [{ id: 'fiscal' }, { id: 'fiscal.income' }, { id: 'fiscal.income.wage' }, { id: 'police' }],
  purposes: [{ id: 'nsoc' }, { id: 'nsoc.tbml' }, { id: 'other' }],
  legalBases: [{ id: 'lb', citation: 'Wet X art. 1', providers: ['a', 'b'], categories: ['fiscal', 'police'] }],
};

export const baseRequest = {
  provider: 'a',
  recipient: 'b',
  dataCategories: ['fiscal.income'],
  purpose: 'nsoc.tbml',
  legalBasis: 'lb',
  requestedAt: '2025-03-01T10:00:00Z',
};

/** Polls `probe` every 100 ms until it gives a value, for at most `ms`. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
