// The thread that works out what posted rule files mean (validation, and the impact of a change
// on the logged decisions), so that parsing, compiling and evaluating never hold a decision up on
// the service's own thread. It reads the log through a read-only view of its folder.
import { parentPort } from 'node:worker_threads';
import { SegmentLog } from '../audit/segment-log.js';
import { impactOfFiles, validateFiles, type ImpactReport, type Period, type PostedFile, type ValidationReport } from './posted-files.js';

export type ReviewJob =
  | { readonly op: 'validate'; readonly files: readonly PostedFile[]; readonly now: number }
  | { readonly op: 'impact'; readonly files: readonly PostedFile[]; readonly period: Period; readonly logDir: string };
export type ReviewRequest = { readonly id: number } & ReviewJob;
export type ReviewReply = { readonly id: number } & ({ readonly ok: true; readonly value: ValidationReport | ImpactReport } | { readonly ok: false; readonly message: string });

async function answer(request: ReviewRequest): Promise<ValidationReport | ImpactReport> {
  if (request.op === 'validate') return validateFiles(request.files, request.now);
  // Opened for each request, so that it sees the segments written since the last one.
  const log = await SegmentLog.open(request.logDir, { readOnly: true });
  try {
    return await impactOfFiles(log, request.files, request.period);
  } finally {
    await log.close();
  }
}

parentPort?.on('message', (request: ReviewRequest) => {
  answer(request).then(
    (value) => parentPort?.postMessage({ id: request.id, ok: true, value } satisfies ReviewReply),
    (e: unknown) => parentPort?.postMessage({ id: request.id, ok: false, message: e instanceof Error ? e.message : String(e) } satisfies ReviewReply),
  );
});
