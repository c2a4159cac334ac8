// Options shared by commands: the rule folders (flags, then env, then defaults; CONTRACT 1).
import type { DatabaseConfig } from '../storage.js';
import type { Place } from '../service/place.js';
import { dataPaths } from '../data-paths.js';
import { readFile } from 'node:fs/promises';
import type { Folders } from '../loader/files.js';
import { parseInstant, parseRequestTime } from '../compile/time.js';
import type { Io } from './io.js';

export interface FolderFlags {
  policies?: string;
  rules?: string;
}

export function folders(flags: FolderFlags, io: Io): Folders {
  const pick = (flag: string | undefined, env: string | undefined, fallback: string): string =>
    flag ?? (env !== undefined && env !== '' ? env : fallback);
  return {
    policies: pick(flags.policies, io.env.COVENANT_POLICIES, 'policies'),
    rules: pick(flags.rules, io.env.COVENANT_RULES, 'rules'),
  };
}


export type Format = 'text' | 'json';

/** The data folder: --data, then COVENANT_DATA, then ./data. */
export const dataDir = (flags: { data?: string }, io: Io): string => flags.data ?? (io.env.COVENANT_DATA || 'data');

/** --database (or COVENANT_DATABASE_URL): the PostgreSQL database replicas share; its schema from COVENANT_DATABASE_SCHEMA. */
export function databaseOf(flags: { database?: string }, io: Io): DatabaseConfig | undefined {
  const url = flags.database ?? (io.env.COVENANT_DATABASE_URL || undefined);
  if (url === undefined) return undefined;
  return { url, ...(io.env.COVENANT_DATABASE_SCHEMA ? { schema: io.env.COVENANT_DATABASE_SCHEMA } : {}) };
}

/** Where the log and the archive are, for the commands that read them. */
export function placeOf(flags: { data?: string; database?: string }, io: Io): Place {
  const database = databaseOf(flags, io);
  if (database) return { kind: 'database', url: database.url, schema: database.schema ?? 'covenant', archive: true };
  const paths = dataPaths(dataDir(flags, io));
  return { kind: 'folder', logDir: paths.log, archiveDir: paths.policies };
}

/** A time given on the command line: an RFC 3339 date-time, or a date (its start, or its end). */
export function flagTime(text: string, bound: 'from' | 'until' = 'from'): number | undefined {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) ? parseInstant(text, bound) : parseRequestTime(text);
}

/** A service API key for a command that talks to the service: from `--api-key-file`, else env COVENANT_API_KEY; never a flag's value, which other users could read. */
export async function apiKeyOf(flags: { apiKeyFile?: string }, io: Io): Promise<string | undefined> {
  const key = flags.apiKeyFile ? (await readFile(flags.apiKeyFile, 'utf8').catch(() => '')).trim() : io.env.COVENANT_API_KEY;
  return key || undefined;
}
