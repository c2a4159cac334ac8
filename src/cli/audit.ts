// `covenant audit verify`: the check of GET /v1/audit/verify, offline. 0 intact, 1 altered or incomplete.
import { verifyDirectory } from '../audit/segment-log.js';
import { verifyArchive } from '../audit/policy-archive.js';
import { withArchive } from '../audit/verify.js';
import { dataPaths } from '../data-paths.js';
import { Exit, type ExitCode, type Io } from './io.js';
import { dataDir, type Format } from './options.js';

export async function auditVerify(flags: { data?: string; format: Format }, io: Io): Promise<ExitCode> {
  const paths = dataPaths(dataDir(flags, io));
  const v = withArchive(await verifyDirectory(paths.log), await verifyArchive(paths.policies));
  if (flags.format === 'json') io.stdout(JSON.stringify(v, null, 2) + '\n');
  else if (v.ok) io.stdout(`intact: ${v.entries} entries${v.head ? `, head ${v.head.seq} ${v.head.hash}` : ''}${v.pruned ? `; ${v.pruned.count} older entries pruned by retention, up to ${v.pruned.seq}` : ''}\n`);
  else {
    const b = v.firstBad;
    io.stdout(`NOT intact: ${b?.message ?? 'unknown problem'} [${b?.problem}]${b?.file ? ` (${b.file}${b.line ? `:${b.line}` : ''})` : ''}\n${v.entries} entries verified before it\n`);
  }
  return v.ok ? Exit.ok : Exit.failed;
}
