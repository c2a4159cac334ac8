// `covenant keys add|list|revoke`: API keys. `add` prints the key once, and nothing else, on stdout.
import { KeyStore, ROLES } from '../keys/store.js';
import type { Role } from '../audit/types.js';
import { dataPaths } from '../data-paths.js';
import { loadCovenant } from '../loader/files.js';
import { Exit, type ExitCode, type Io } from './io.js';
import { dataDir, folders, type FolderFlags, type Format } from './options.js';

export async function keysAdd(flags: FolderFlags & { role?: string; partner?: string; name?: string; data?: string }, io: Io): Promise<ExitCode> {
  const role = flags.role as Role | undefined;
  if (!role || !ROLES.includes(role)) {
    io.stderr(`error: --role must be one of ${ROLES.join(', ')}\n`);
    return Exit.invalid;
  }
  if (role === 'partner' && !flags.partner) {
    io.stderr('error: a partner key needs --partner ID (the partner it acts for)\n');
    return Exit.invalid;
  }
  if (role !== 'partner' && flags.partner) {
    io.stderr(`error: --partner is only for role partner, not ${role}\n`);
    return Exit.invalid;
  }
  if (flags.partner) {
    const loaded = await loadCovenant(folders(flags, io));
    if (loaded.covenant && !loaded.covenant.partners.has(flags.partner)) {
      io.stderr(`error: unknown partner \`${flags.partner}\`; the covenant defines ${[...loaded.covenant.partners.keys()].join(', ')}\n`);
      return Exit.invalid;
    }
  }
  const store = await KeyStore.open(dataPaths(dataDir(flags, io)).keys);
  const { key, record } = await store.add({ role, ...(flags.partner && { partner: flags.partner }), ...(flags.name && { name: flags.name }) }, new Date(io.now()));
  io.stdout(`${key}\n`);
  io.stderr(`created key ${record.id} (${role}${record.partner ? ` for ${record.partner}` : ''}); it is shown only this once\n`);
  return Exit.ok;
}

export async function keysList(flags: { data?: string; format: Format }, io: Io): Promise<ExitCode> {
  const store = await KeyStore.open(dataPaths(dataDir(flags, io)).keys);
  const keys = store.list().map(({ hash: _hash, ...k }) => k);
  if (flags.format === 'json') {
    io.stdout(JSON.stringify(keys, null, 2) + '\n');
    return Exit.ok;
  }
  if (keys.length === 0) io.stdout('no keys; create one with `covenant keys add --role ROLE`\n');
  for (const k of keys) {
    io.stdout(`${k.id}  ${k.role.padEnd(15)} ${(k.partner ?? '-').padEnd(16)} ${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}  ${k.name ?? ''}\n`);
  }
  return Exit.ok;
}

export async function keysRevoke(id: string, flags: { data?: string }, io: Io): Promise<ExitCode> {
  const store = await KeyStore.open(dataPaths(dataDir(flags, io)).keys);
  if (!(await store.revoke(id, new Date(io.now())))) {
    io.stderr(`error: no key with id \`${id}\`\n`);
    return Exit.invalid;
  }
  io.stderr(`revoked key ${id}\n`);
  return Exit.ok;
}
