// `covenant audit verify`: the check of GET /v1/audit/verify, offline. 0 intact, 1 altered or incomplete.
// With --receipts and --witness, also against what partners and witnesses hold (CONTRACT 6).
import { leavesAt, verifyAll } from '../service/place.js';
import { checkAnchors } from '../audit/anchors.js';
import type { Verification } from '../audit/types.js';
import { gatherAnchors } from './receipts.js';
import { Exit, type ExitCode, type Io } from './io.js';
import { placeOf, type Format } from './options.js';

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
