// Options shared by commands: the rule folders (flags, then env, then defaults; CONTRACT 1).
import type { Folders } from '../loader/files.js';
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
