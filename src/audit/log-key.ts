// The log's signing key: read from its own file (kept apart from the data folder, since whoever
// holds it can sign checkpoints), or, for a first run, made in the data folder with a warning.
import { readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { generateSignerKey, parseSignerKey, type NoteSigner } from './note.js';
import { makeDir, writeDurably } from '../small-state.js';

export type LoadedKey = { ok: true; signer: NoteSigner; warnings: string[] } | { ok: false; reason: string };

/** The name a new log key gets when none is given: a C2SP key name (no spaces or plus signs). */
export const defaultKeyName = (): string => `covenant/${hostname().replace(/[\s+]/g, '-') || 'log'}`;

/** Writes a new signing key to `file` (mode 0600), refusing to overwrite one. Returns its signer. */
export async function createLogKey(file: string, name: string): Promise<NoteSigner> {
  if (await stat(file).then(() => true, () => false)) throw new Error(`${file} exists: a log key is never overwritten (checkpoints signed with it could no longer be checked)`);
  const text = generateSignerKey(name);
  await writeDurably(file, `${text}\n`, 0o600);
  const parsed = parseSignerKey(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.signer;
}

export async function loadLogKey(file: string): Promise<LoadedKey> {
  let text: string;
  let mode: number;
  try {
    [text, mode] = await Promise.all([readFile(file, 'utf8'), stat(file).then((s) => s.mode)]);
  } catch (e) {
    return { ok: false, reason: `cannot read the log key ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  const parsed = parseSignerKey(text);
  if (!parsed.ok) return { ok: false, reason: `${file}: ${parsed.reason}` };
  const warnings = (mode & 0o077) !== 0 ? [`the log key ${file} can be read by others than its owner: chmod 600 it`] : [];
  return { ok: true, signer: parsed.signer, warnings };
}

/** Without --log-key: the key in the data folder, made on the first run. */
export async function dataFolderKey(dataDir: string): Promise<LoadedKey> {
  const file = join(dataDir, 'log-key');
  const exists = await stat(file).then(() => true, () => false);
  if (!exists) {
    // a first run names a data folder that is not there yet: it is made here, as the log would
    await makeDir(dataDir);
    await createLogKey(file, defaultKeyName());
  }
  const loaded = await loadLogKey(file);
  if (!loaded.ok) return loaded;
  return {
    ...loaded,
    warnings: [
      ...loaded.warnings,
      `no --log-key given: checkpoints are signed with ${file}${exists ? '' : ', made now'}. Whoever can write the data folder can then re-sign an altered log; keep the key apart: \`covenant log-key init FILE\`, then \`covenant serve --log-key FILE\` (env COVENANT_LOG_KEY)`,
    ],
  };
}
