// The thread that works out what posted rule files mean (validation, and the impact of a change
// on the logged decisions) and verifies the log, so that parsing, compiling, evaluating and hashing
// the whole log never hold a decision up on the service's own thread. It reads the log through a
// read-only view of its folder.
import { parentPort } from 'node:worker_threads';
import { SegmentLog, verifyDirectory } from '../audit/segment-log.js';
import { verifyArchive } from '../audit/policy-archive.js';
import { withArchive } from '../audit/verify.js';
import type { Verification } from '../audit/types.js';
import { impactOfFiles, validateFiles, type ImpactReport, type Period, type PostedFile, type ValidationReport } from './posted-files.js';

export type ReviewJob =
  | { readonly op: 'validate'; readonly files: readonly PostedFile[]; readonly now: number }
  | { readonly op: 'impact'; readonly files: readonly PostedFile[]; readonly period: Period; readonly logDir: string }
  | { readonly op: 'verify'; readonly logDir: string; readonly archiveDir: string | undefined };
export type ReviewResult = ValidationReport | ImpactReport | Verification;
export type ReviewRequest = { readonly id: number } & ReviewJob;
export type ReviewReply = { readonly id: number } & ({ readonly ok: true; readonly value: ReviewResult } | { readonly ok: false; readonly message: string });

/** The log's verification, with the archived policy versions' when there is an archive. */
export async function verifyAll(logDir: string, archiveDir: string | undefined): Promise<Verification> {
  return withArchive(await verifyDirectory(logDir), archiveDir === undefined ? undefined : await verifyArchive(archiveDir));
}

async function answer(request: ReviewRequest): Promise<ReviewResult> {
  if (request.op === 'validate') return validateFiles(request.files, request.now);
  if (request.op === 'verify') return verifyAll(request.logDir, request.archiveDir);
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
