// `covenant keys add|list|revoke`: API keys. `add` prints the key once, and nothing else, on stdout.
import { ROLES } from '../keys/store.js';
import type { Role } from '../audit/types.js';
import { withKeys } from '../storage.js';
import { loadCovenant } from '../loader/files.js';
import { Exit, type ExitCode, type Io } from './io.js';
import { databaseOf, dataDir, folders, type FolderFlags, type Format } from './options.js';

export async function keysAdd(flags: FolderFlags & { role?: string; partner?: string; name?: string; unit?: string; function?: string; data?: string; database?: string }, io: Io): Promise<ExitCode> {
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
  for (const [flag, value] of [['--unit', flags.unit], ['--function', flags.function]] as const) {
    if (value !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value)) {
      io.stderr(`error: ${flag} takes an id: letters, digits, dots, dashes and underscores, at most 64\n`);
      return Exit.invalid;
    }
  }
  if (flags.partner) {
    const loaded = await loadCovenant(folders(flags, io));
    if (loaded.covenant && !loaded.covenant.partners.has(flags.partner)) {
      io.stderr(`error: unknown partner \`${flags.partner}\`; the covenant defines ${[...loaded.covenant.partners.keys()].join(', ')}\n`);
      return Exit.invalid;
    }
  }
  const { key, record } = await withKeys(dataDir(flags, io), databaseOf(flags, io), (store) => store.add(
    { role, ...(flags.partner && { partner: flags.partner }), ...(flags.name && { name: flags.name }), ...(flags.unit && { unit: flags.unit }), ...(flags.function && { function: flags.function }) },
    new Date(io.now()),
  ));
  io.stdout(`${key}\n`);
  io.stderr(`created key ${record.id} (${role}${record.partner ? ` for ${record.partner}` : ''}); it is shown only this once\n`);
  return Exit.ok;
}

export async function keysList(flags: { data?: string; database?: string; format: Format }, io: Io): Promise<ExitCode> {
  const keys = await withKeys(dataDir(flags, io), databaseOf(flags, io), async (store) => store.list().map(({ hash: _hash, ...k }) => k));
  if (flags.format === 'json') {
    io.stdout(JSON.stringify(keys, null, 2) + '\n');
    return Exit.ok;
  }
  if (keys.length === 0) io.stdout('no keys; create one with `covenant keys add --role ROLE`\n');
  for (const k of keys) {
    const within = [k.unit, k.function].filter((x) => x !== undefined).join('/');
    io.stdout(`${k.id}  ${k.role.padEnd(15)} ${(k.partner ?? '-').padEnd(16)} ${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}  ${within ? `${within}  ` : ''}${k.name ?? ''}\n`);
  }
  return Exit.ok;
}

export async function keysRevoke(id: string, flags: { data?: string; database?: string }, io: Io): Promise<ExitCode> {
  if (!(await withKeys(dataDir(flags, io), databaseOf(flags, io), (store) => store.revoke(id, new Date(io.now()))))) {
    io.stderr(`error: no key with id \`${id}\`\n`);
    return Exit.invalid;
  }
  io.stderr(`revoked key ${id}\n`);
  return Exit.ok;
}
