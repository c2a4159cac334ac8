// The thread that works out what posted rule files mean (validation, and the impact of a change
// on the logged decisions) and reads the log for auditors (listing, verification, the report,
// exports and their digests), so that parsing, compiling, evaluating and hashing never hold a
// decision up on the service's own thread. It reads the log through a read-only view of its own (src/service/place.ts).
import { parentPort } from 'node:worker_threads';
import type { DecisionLog, ListFilter, Page, Verification } from '../audit/types.js';
import { archiveTexts, readLog, reading, verifyAll, type Place } from './place.js';
import { exportDigest, exportLog, type ExportDigest } from './export.js';
import { buildReport, type Report, type ReportNames } from './report.js';
import { buildMatrix, renderMatrix, type MatrixFormat } from '../engine/matrix.js';
import type { Covenant } from '../domain/covenant.js';
import { readArchived } from '../audit/policy-archive.js';
import { covenantFromFiles } from './review.js';
import { draftCheck, impactOfFiles, validateFiles, type DraftReport, type ImpactReport, type Period, type PostedFile, type ValidationReport } from './posted-files.js';

export type ReviewJob =
  | { readonly op: 'validate'; readonly files: readonly PostedFile[]; readonly now: number }
  | { readonly op: 'impact'; readonly files: readonly PostedFile[]; readonly period: Period; readonly place: Place }
  | { readonly op: 'draft'; readonly files: readonly PostedFile[]; readonly tests: readonly PostedFile[]; readonly now: number; readonly place: Place; readonly withImpact: boolean }
  | { readonly op: 'verify'; readonly place: Place }
  | { readonly op: 'report'; readonly place: Place; readonly period: Period; readonly names?: ReportNames; readonly now: number }
  | { readonly op: 'digest'; readonly place: Place; readonly period: Period; readonly format: 'ndjson' | 'csv' }
  | { readonly op: 'list'; readonly place: Place; readonly filter: ListFilter; readonly page: { before?: number; limit: number } }
  | { readonly op: 'matrix'; readonly place: Place; readonly policyVersion: string; readonly at: number; readonly format: MatrixFormat }
  | { readonly op: 'export-open'; readonly stream: number; readonly place: Place; readonly period: Period; readonly format: 'ndjson' | 'csv' }
  | { readonly op: 'export-next'; readonly stream: number }
  | { readonly op: 'export-close'; readonly stream: number };
/** The next part of an export: entries' text, and whether it was the last. */
export type ExportChunk = { readonly text: string; readonly done: boolean };
export type ReviewResult = ValidationReport | ImpactReport | DraftReport | Verification | Report | ExportDigest | Page | ExportChunk | string | null;
export type ReviewRequest = { readonly id: number } & ReviewJob;
export type ReviewReply = { readonly id: number } & ({ readonly ok: true; readonly value: ReviewResult } | { readonly ok: false; readonly message: string });

export { verifyAll };

/** Exports being read, each until its last chunk has gone or the reader went away. */
const exports = new Map<number, { log: DecisionLog; chunks: AsyncGenerator<string> }>();
// A chunk holds a few hundred entries: one message each way for that many.
const CHUNK_CHARS = 1 << 18;

async function nextChunk(stream: number): Promise<ExportChunk> {
  const open = exports.get(stream);
  if (!open) throw new Error(`no export ${stream} is open`);
  let text = '';
  while (text.length < CHUNK_CHARS) {
    const next = await open.chunks.next();
    if (next.done) {
      await closeExport(stream);
      return { text, done: true };
    }
    text += next.value;
  }
  return { text, done: false };
}

async function closeExport(stream: number): Promise<null> {
  const open = exports.get(stream);
  exports.delete(stream);
  await open?.chunks.return(undefined);
  await open?.log.close();
  return null;
}

/** The version the matrix was last asked of, compiled from the archive: asked again, it is at hand. */
let compiled: { policyVersion: string; covenant: Covenant } | undefined;

/**
 * The matrix of an archived version, as text in the format asked for: a string crosses to the
 * service's thread as one copy, where 10,000 rules' matrix as objects took it ~50 ms to take in.
 */
async function matrixOf(request: Extract<ReviewJob, { op: 'matrix' }>): Promise<string> {
  if (compiled?.policyVersion !== request.policyVersion) {
    const texts = archiveTexts(request.place);
    const files = texts && (await readArchived(texts, request.policyVersion));
    const covenant = files && covenantFromFiles(files).covenant;
    if (!covenant) throw new Error(`policy version ${request.policyVersion} is not in the archive`);
    compiled = { policyVersion: request.policyVersion, covenant };
  }
  return renderMatrix(buildMatrix(compiled.covenant, request.at), request.format);
}

async function answer(request: ReviewRequest): Promise<ReviewResult> {
  switch (request.op) {
    case 'validate':
      return validateFiles(request.files, request.now);
    case 'verify':
      return verifyAll(request.place);
    case 'impact':
      return reading(request.place, (log) => impactOfFiles(log, request.files, request.period));
    case 'draft':
      return reading(request.place, (log) => draftCheck(log, request.files, request.tests, request.now, request.withImpact));
    case 'report':
      return reading(request.place, (log) => buildReport(log, request.period, { ...(request.names && { names: request.names }), now: request.now }));
    case 'digest':
      return reading(request.place, (log) => exportDigest(log, request.period, request.format));
    case 'list':
      return reading(request.place, (log) => log.list(request.filter, request.page));
    case 'matrix':
      return matrixOf(request);
    case 'export-open': {
      const log = await readLog(request.place);
      exports.set(request.stream, { log, chunks: exportLog(log, request.period, request.format, () => undefined) });
      return null;
    }
    case 'export-next':
      return nextChunk(request.stream);
    case 'export-close':
      return closeExport(request.stream);
  }
}

parentPort?.on('message', (request: ReviewRequest) => {
  answer(request).then(
    (value) => parentPort?.postMessage({ id: request.id, ok: true, value } satisfies ReviewReply),
    (e: unknown) => parentPort?.postMessage({ id: request.id, ok: false, message: e instanceof Error ? e.message : String(e) } satisfies ReviewReply),
  );
});
