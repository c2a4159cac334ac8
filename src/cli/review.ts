// The review commands (CONTRACT 5): audit export, report, replay; impact; matrix. They read the
// log read-only, so they can run beside a service that is writing it.
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { PolicyArchive } from '../audit/policy-archive.js';
import { openArchive, readLog } from '../service/place.js';
import { verifyLines, type Line } from '../audit/verify.js';
import type { DecisionLog, LogEntry, Verification } from '../audit/types.js';
import { loadCovenant } from '../loader/files.js';
import { hasErrors } from '../compile/index.js';
import { exportLog, type ExportDigest } from '../service/export.js';
import { buildReport, namesOf } from '../service/report.js';
import { renderReportHtml } from '../service/report-html.js';
import { impact, replay, VersionCache } from '../service/review.js';
import { buildMatrix, renderMatrix } from '../engine/matrix.js';
import type { Covenant } from '../domain/covenant.js';
import { GENESIS } from '../audit/chain.js';
import { Exit, type ExitCode, type Io } from './io.js';
import { flagTime, folders, placeOf, type FolderFlags } from './options.js';
import { renderDiagnostics } from './render.js';

interface DataFlags {
  data?: string;
  database?: string;
}
interface PeriodFlags {
  from?: string;
  to?: string;
}

const openLog = (flags: DataFlags, io: Io): Promise<DecisionLog> => readLog(placeOf(flags, io));

/** --from and --to: a date-time, or a date (from its start, to its end). */
function period(flags: PeriodFlags, io: Io): { from?: number; to?: number } | undefined {
  const one = (text: string | undefined, bound: 'from' | 'until', flag: string): number | undefined | null => {
    if (text === undefined) return undefined;
    const t = flagTime(text, bound);
    if (t === undefined) {
      io.stderr(`error: ${flag} \`${text}\` is not a date or an RFC 3339 date-time\n`);
      return null;
    }
    return t;
  };
  const from = one(flags.from, 'from', '--from');
  const to = one(flags.to, 'until', '--to');
  if (from === null || to === null) return undefined;
  if (from !== undefined && to !== undefined && from > to) {
    io.stderr(`error: --to \`${flags.to}\` is before --from \`${flags.from}\`\n`);
    return undefined;
  }
  return { ...(from !== undefined && { from }), ...(to !== undefined && { to }) };
}

async function workingCovenant(flags: FolderFlags, io: Io): Promise<Covenant | undefined> {
  const loaded = await loadCovenant(folders(flags, io));
  if (loaded.covenant && !hasErrors(loaded.diagnostics)) return loaded.covenant;
  io.stderr(renderDiagnostics(loaded.diagnostics.filter((d) => d.severity === 'error')) + 'error: the rule files are invalid\n');
  return undefined;
}

export async function auditExport(flags: DataFlags & PeriodFlags & { format: 'ndjson' | 'csv'; digest?: string }, io: Io): Promise<ExitCode> {
  const range = period(flags, io);
  if (!range) return Exit.invalid;
  const log = await openLog(flags, io);
  let digest: ExportDigest | undefined;
  for await (const chunk of exportLog(log, range, flags.format, (d) => (digest = d))) await io.stdoutAsync(chunk);
  await log.close();
  if (digest) {
    if (flags.digest) await writeFile(flags.digest, JSON.stringify(digest, null, 2) + '\n');
    io.stderr(`exported ${digest.count} entries (seq ${digest.firstSeq ?? '-'} to ${digest.lastSeq ?? '-'}); last hash ${digest.lastHash ?? '-'}; ${digest.sha256}\n`);
  }
  return Exit.ok;
}

/**
 * `audit verify --export FILE [--digest FILE]`: the chain inside an NDJSON export, on its own.
 * One pass over the file, hashing its bytes as its lines are verified: an export of the whole log
 * is larger than any string Node can hold.
 */
export async function verifyExport(file: string, digestFile: string | undefined, io: Io): Promise<ExitCode> {
  const input = createReadStream(file);
  const sha = createHash('sha256');
  let bytes = 0;
  let lastByte = 10;
  input.on('data', (data) => {
    const chunk = data as Buffer; // no encoding was set: the stream gives bytes
    sha.update(chunk);
    bytes += chunk.length;
    lastByte = chunk[chunk.length - 1] ?? lastByte;
  });
  let n = 0;
  const lines = (async function* (): AsyncGenerator<Line> {
    for await (const text of createInterface({ input, crlfDelay: Infinity })) yield { text, file, line: ++n };
  })();
  let v: Verification;
  let start = { seq: 0, hash: GENESIS };
  try {
    const first = await lines.next();
    try {
      if (!first.done) {
        const e = JSON.parse(first.value.text) as LogEntry;
        start = { seq: e.seq - 1, hash: e.prevHash };
      }
    } catch {
      // an empty or unreadable export: verifyLines reports it
    }
    v = await verifyLines(
      (async function* (): AsyncGenerator<Line> {
        // next(), not for-await: verify stopping at a bad line must not close the file, which is
        // read to its end below for the digest and the last newline.
        for (let l = first; !l.done; l = await lines.next()) if (l.value.text.length > 0) yield l.value;
      })(),
      start,
    );
    while (!(await lines.next()).done);
  } catch {
    io.stderr(`error: cannot read export \`${file}\`\n`);
    return Exit.failed;
  }
  const problems: string[] = [];
  if (!v.ok) problems.push(`${v.firstBad?.message} [${v.firstBad?.problem}] at line ${v.firstBad?.line ?? '?'}`);
  if (lastByte !== 10 && bytes > 0) problems.push('the last line has no newline: the export was cut off');
  if (digestFile) {
    const d = JSON.parse(await readFile(digestFile, 'utf8')) as ExportDigest;
    if (d.sha256 !== `sha256:${sha.digest('hex')}`) problems.push('the export differs from the one the digest describes (sha256)');
    if (d.count !== v.entries && v.ok) problems.push(`the digest counts ${d.count} entries, the export holds ${v.entries}`);
    if (v.ok && (v.head?.hash ?? null) !== d.lastHash && d.count > 0) problems.push('the last entry is not the one the digest names');
    if (v.ok && start.hash !== (d.firstPrevHash ?? GENESIS) && d.count > 0) problems.push('the first entry is not the one the digest names');
  }
  if (problems.length > 0) {
    io.stdout(`NOT intact: ${problems.join('; ')}\n`);
    return Exit.failed;
  }
  io.stdout(`intact: ${v.entries} entries${v.head ? `, seq ${start.seq + 1} to ${v.head.seq}, last hash ${v.head.hash}` : ''}${digestFile ? ', as the digest says' : ''}\n`);
  return Exit.ok;
}

export async function auditReport(flags: DataFlags & FolderFlags & PeriodFlags & { format: 'json' | 'html' }, io: Io): Promise<ExitCode> {
  const range = period(flags, io);
  if (!range) return Exit.invalid;
  // Names come from the rule folders when they are valid; the report stands without them.
  const loaded = await loadCovenant(folders(flags, io));
  const log = await openLog(flags, io);
  const r = await buildReport(log, range, { ...(loaded.covenant && !hasErrors(loaded.diagnostics) && { names: namesOf(loaded.covenant) }), now: io.now() });
  await log.close();
  io.stdout(flags.format === 'html' ? renderReportHtml(r, new Date(io.now()).toISOString()) : JSON.stringify(r, null, 2) + '\n');
  return Exit.ok;
}

export async function auditReplay(id: string, flags: DataFlags & FolderFlags & { format: 'text' | 'json' }, io: Io): Promise<ExitCode> {
  const current = await workingCovenant(flags, io);
  if (!current) return Exit.failed;
  const log = await openLog(flags, io);
  const archive = (await openArchive(placeOf(flags, io))) as PolicyArchive;
  const r = await replay(log, new VersionCache(archive), current, id);
  await log.close();
  if (!r.ok) {
    io.stderr(`error: ${r.message}\n`);
    return Exit.invalid;
  }
  const v = r.value;
  if (flags.format === 'json') io.stdout(JSON.stringify(v, null, 2) + '\n');
  else {
    io.stdout(
      `decision ${v.decisionId}: recorded ${v.recorded.decision} under ${v.recorded.policyVersion}\n` +
        `replayed under that version: ${v.replayed?.decision ?? 'not possible'}; ${v.reproduced ? 'reproduced exactly' : 'NOT REPRODUCED'}\n` +
        `under the current version ${v.currentPolicyVersion}: ${v.current?.decision ?? 'refused'}${v.changed ? ' (CHANGED)' : ' (unchanged)'}\n` +
        v.differences.map((d) => `  ${d.category}: ${d.recorded?.decision ?? '-'} -> ${d.current?.decision ?? '-'} (${[...(d.recorded?.rules ?? []), '->', ...(d.current?.rules ?? [])].join(' ')})\n`).join('') +
        (v.rules.length > 0 ? `rules that make the difference: ${v.rules.join(', ')}\n` : '') +
        v.problems.map((p) => `warning: ${p}\n`).join(''),
    );
  }
  return v.reproduced ? Exit.ok : Exit.failed;
}

export async function impactCommand(flags: DataFlags & FolderFlags & PeriodFlags & { format: 'text' | 'json' }, io: Io): Promise<ExitCode> {
  const range = period(flags, io);
  if (!range) return Exit.invalid;
  const proposed = await workingCovenant(flags, io);
  if (!proposed) return Exit.failed;
  const log = await openLog(flags, io);
  const result = await impact(log, proposed, range);
  await log.close();
  if (flags.format === 'json') io.stdout(JSON.stringify(result, null, 2) + '\n');
  else {
    io.stdout(`${result.evaluated} logged decisions evaluated under ${result.policyVersion}: ${result.flips.length} would flip\n`);
    for (const g of result.byRule) io.stdout(`  ${g.rule}: ${g.flips} (${g.toPermit} to permit, ${g.toDeny} to deny)\n`);
    for (const f of result.flips) io.stdout(`  ${f.decisionId}: ${f.recorded} -> ${f.now}${f.rules.length > 0 ? ` (${f.rules.join(', ')})` : ''}\n`);
  }
  return Exit.ok;
}

export async function matrixCommand(flags: FolderFlags & { at?: string; format: 'md' | 'csv' | 'html' | 'json' }, io: Io): Promise<ExitCode> {
  const at = flags.at === undefined ? io.now() : flagTime(flags.at);
  if (at === undefined) {
    io.stderr(`error: --at \`${flags.at}\` is not a date or an RFC 3339 date-time\n`);
    return Exit.invalid;
  }
  const covenant = await workingCovenant(flags, io);
  if (!covenant) return Exit.failed;
  const m = buildMatrix(covenant, at);
  io.stdout(flags.format === 'json' ? JSON.stringify(m, null, 2) + '\n' : renderMatrix(m, flags.format));
  return Exit.ok;
}
