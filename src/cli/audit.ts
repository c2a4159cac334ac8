// `covenant audit verify`: the check of GET /v1/audit/verify, offline. 0 intact, 1 altered or incomplete.
// With --receipts and --witness, also against what partners and witnesses hold (CONTRACT 6).
import { stat } from 'node:fs/promises';
import { leavesAt, verifyAll } from '../service/place.js';
import { checkAnchors } from '../audit/anchors.js';
import type { Verification } from '../audit/types.js';
import { gatherAnchors } from './receipts.js';
import { Exit, type ExitCode, type Io } from './io.js';
import { databaseOf, dataDir, placeOf, type Format } from './options.js';
import { migrateFolder } from '../storage.js';
import { redacted } from '../audit/pg-schema.js';
import { dataFolderKey, loadLogKey } from '../audit/log-key.js';

export interface VerifyFlags {
  data?: string;
  database?: string;
  format: Format;
  receipts?: string;
  witness?: string;
  logKey?: string;
}

export async function auditVerify(flags: VerifyFlags, io: Io): Promise<ExitCode> {
  const place = placeOf(flags, io);
  let v: Verification & { anchors?: { checked: number; unverifiable: number } } = await verifyAll(place);
  if (v.ok && (flags.receipts !== undefined || flags.witness !== undefined)) {
    const gathered = await gatherAnchors(flags);
    if (typeof gathered === 'string') {
      io.stderr(`error: ${gathered}\n`);
      return Exit.invalid;
    }
    for (const bad of gathered.invalid) io.stderr(`warning: not used, not valid under the pinned key: ${bad}\n`);
    const { prefix, leaves } = await leavesAt(place);
    const r = await checkAnchors(leaves, gathered.anchors, prefix);
    v = r.ok
      ? { ...v, anchors: { checked: r.checked, unverifiable: r.unverifiable } }
      : { ...v, ok: false, firstBad: { seq: r.firstBad.seq, problem: 'altered', message: r.firstBad.message } };
  }
  if (flags.format === 'json') io.stdout(JSON.stringify(v, null, 2) + '\n');
  else if (v.ok) {
    const anchored = v.anchors ? `; agrees with all ${v.anchors.checked} hashes that receipts and witnesses hold${v.anchors.unverifiable ? ` (${v.anchors.unverifiable} about pruned entries not checked)` : ''}` : '';
    io.stdout(`intact: ${v.entries} entries${v.head ? `, head ${v.head.seq} ${v.head.hash}` : ''}${v.pruned ? `; ${v.pruned.count} older entries pruned by retention, up to ${v.pruned.seq}` : ''}${anchored}\n`);
  } else {
    const b = v.firstBad;
    io.stdout(`NOT intact: ${b?.message ?? 'unknown problem'} [${b?.problem}]${b?.file ? ` (${b.file}${b.line ? `:${b.line}` : ''})` : ''}\n${b?.seq !== undefined ? `first entry that disagrees: ${b.seq}\n` : ''}`);
  }
  return v.ok ? Exit.ok : Exit.failed;
}

/** `covenant audit migrate`: the data folder into an empty database, then the copy verified. */
export async function auditMigrate(flags: { data?: string; database?: string; logKey?: string; format: Format }, io: Io): Promise<ExitCode> {
  const database = databaseOf(flags, io);
  if (!database) {
    io.stderr('error: migrate needs --database URL (or COVENANT_DATABASE_URL): the empty database to copy into\n');
    return Exit.invalid;
  }
  const dir = dataDir(flags, io);
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) {
    io.stderr(`error: ${dir} is not a data folder: there is no log to copy\n`);
    return Exit.invalid;
  }
  const logKey = flags.logKey ?? (io.env.COVENANT_LOG_KEY || undefined);
  // The key the folder's log was signed with: its checkpoints, receipts and witnesses stay valid.
  const key = logKey !== undefined ? await loadLogKey(logKey) : await dataFolderKey(dir);
  if (!key.ok) {
    io.stderr(`error: ${key.reason}\n`);
    return Exit.invalid;
  }
  const m = await migrateFolder(dir, database, key.signer);
  if (flags.format === 'json') io.stdout(JSON.stringify(m, null, 2) + '\n');
  else {
    io.stdout(`copied ${m.entries} entries, ${m.keys} keys, ${m.approvals} approvals and ${m.versions} policy versions into ${redacted(database.url)} (schema ${database.schema ?? 'covenant'})\n`);
    io.stdout(m.verified.ok ? `the copy verifies: head ${m.verified.head?.seq ?? 0} ${m.verified.head?.hash ?? ''}, as in the folder\n` : `the copy does NOT verify: ${m.verified.firstBad?.message}\n`);
  }
  return m.verified.ok ? Exit.ok : Exit.failed;
}
