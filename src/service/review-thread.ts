// The review routes' work on posted rule files, and the auditors' reading of the log (listing,
// verification, the report, exports and their digests), on a worker thread. The worker starts on
// first use and again after it fails. Reading the log falls back to the service's thread if the
// worker cannot run: slower for decisions meanwhile, never a wrong answer. Posted files never do:
// a hostile file (aliases that expand to millions of values) took the worker down and then held
// every decision for 12 s on the service's thread. They get memory and time limits instead, and
// a caller whose files hit one is told so.
import type { Worker } from 'node:worker_threads';
import { archiveTexts, type Place } from './place.js';
import { startWorker, withinLimits } from '../worker-thread.js';
import type { DraftReport, ImpactReport, Period, PostedFile, ValidationReport } from './posted-files.js';
import type { DecisionLog, ListFilter, Page, Verification } from '../audit/types.js';
import { exportDigest, exportLog, type ExportDigest } from './export.js';
import { buildReport, type Report, type ReportNames } from './report.js';
import type { MatrixFormat } from '../engine/matrix.js';
import { verifyAll, type ExportChunk, type ReviewJob, type ReviewReply, type ReviewRequest, type ReviewResult } from './review-worker.js';

type Pending = { resolve: (value: ReviewResult) => void; reject: (e: Error) => void };

/** The worker's heap, and how long posted files may take to check. */
export const POSTED_LIMITS = { heapMb: 768, seconds: 30 } as const;

/** Posted files that were not checked: too costly (413), or no thread to check them on (503). */
export class PostedWorkRefused extends Error {
  constructor(
    readonly status: 413 | 503,
    message: string,
  ) {
    super(message);
  }
}

export class ReviewThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private streams = 0;
  private closed = false;

  private readonly place: Place;

  /** `log` is the service's own, for the fallback; `place` is where the worker reads it (a folder: the log's). */
  constructor(
    private readonly log: DecisionLog,
    place: Place | string,
    private readonly onFallback: (reason: string) => void = () => undefined,
    private readonly limits: { readonly heapMb: number; readonly seconds: number } = POSTED_LIMITS,
  ) {
    this.place = typeof place === 'string' ? { kind: 'folder', logDir: place } : place;
  }

  /** Rejects with PostedWorkRefused when the files could not be checked within the limits. */
  validate(files: readonly PostedFile[], now: number): Promise<ValidationReport> {
    return this.runPosted({ op: 'validate', files, now }) as Promise<ValidationReport>;
  }

  /** Rejects with PostedWorkRefused when the files could not be checked within the limits. */
  draft(files: readonly PostedFile[], tests: readonly PostedFile[], now: number, withImpact = true): Promise<DraftReport> {
    return this.runPosted({ op: 'draft', files, tests, now, place: this.place, withImpact }) as Promise<DraftReport>;
  }

  /** Rejects with PostedWorkRefused when the files could not be checked within the limits. */
  impact(files: readonly PostedFile[], period: Period): Promise<ImpactReport> {
    return this.runPosted({ op: 'impact', files, period, place: this.place }) as Promise<ImpactReport>;
  }

  /**
   * Verifies the log (and the archive of policy versions, where the place has one). Hashing a large log takes
   * seconds of CPU (6.8 s for 333,000 entries here): on the service's thread it had slowed every
   * decision meanwhile (p99 13 → 62 ms at 2,000 decisions/s).
   */
  verify(): Promise<Verification> {
    return this.run({ op: 'verify', place: this.place }, () => verifyAll(this.place)) as Promise<Verification>;
  }

  /** A page of the log, newest first: a filter that matches little reads far back. */
  list(filter: ListFilter, page: { before?: number; limit: number }): Promise<Page> {
    return this.run({ op: 'list', place: this.place, filter, page }, () => this.log.list(filter, page)) as Promise<Page>;
  }

  /**
   * The matrix of the version serving, as text: 10,000 rules' matrix took 1.8 s to work out, which
   * on the service's thread every decision would have waited for. `here` works it out on this thread.
   */
  matrix(policyVersion: string, at: number, format: MatrixFormat, here: () => string): Promise<string> {
    if (archiveTexts(this.place) === undefined) return Promise.resolve(here());
    return this.run({ op: 'matrix', place: this.place, policyVersion, at, format }, () => Promise.resolve(here())) as Promise<string>;
  }

  report(period: Period, names: ReportNames | undefined, now: number): Promise<Report> {
    const options = { ...(names && { names }), now };
    return this.run({ op: 'report', place: this.place, period, ...options }, () => buildReport(this.log, period, options)) as Promise<Report>;
  }

  exportDigest(period: Period, format: 'ndjson' | 'csv'): Promise<ExportDigest> {
    return this.run({ op: 'digest', place: this.place, period, format }, () => exportDigest(this.log, period, format)) as Promise<ExportDigest>;
  }

  /**
   * An export's text, read on the worker and handed over in chunks of a few hundred entries, one
   * chunk at a time as the reader takes them. Exporting a large log on the service's thread had
   * cut the decisions answered meanwhile by more than half. A worker that fails in the middle ends
   * the export with an error: a cut export never passes as a whole one.
   */
  async *exportChunks(period: Period, format: 'ndjson' | 'csv'): AsyncGenerator<string> {
    const worker = this.closed ? undefined : this.started();
    if (!worker) {
      yield* exportLog(this.log, period, format, () => undefined);
      return;
    }
    const stream = ++this.streams;
    await this.ask(worker, { op: 'export-open', stream, place: this.place, period, format });
    let done = false;
    try {
      while (!done) {
        const chunk = (await this.ask(worker, { op: 'export-next', stream })) as ExportChunk;
        done = chunk.done;
        if (chunk.text !== '') yield chunk.text;
      }
    } finally {
      if (!done) await this.ask(worker, { op: 'export-close', stream }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.terminate();
  }

  private ask(worker: Worker, job: ReviewJob): Promise<ReviewResult> {
    // A worker that has stopped drops messages: a stream still holding it must hear so.
    if (this.worker !== worker) return Promise.reject(new Error('the review thread stopped'));
    const id = ++this.next;
    return new Promise<ReviewResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...job, id } satisfies ReviewRequest);
    });
  }

  private async run(job: ReviewJob, here: () => Promise<ReviewResult>): Promise<ReviewResult> {
    const worker = this.closed ? undefined : this.started();
    if (!worker) return here();
    try {
      return await this.ask(worker, job);
    } catch (e) {
      this.onFallback((e as Error).message);
      return here();
    }
  }

  /** Posted work: on the worker or not at all, within POSTED_LIMITS. */
  private async runPosted(job: ReviewJob): Promise<ReviewResult> {
    const worker = this.closed ? undefined : this.started();
    if (!worker) throw new PostedWorkRefused(503, 'posted files are checked on a thread of their own, which cannot run now; try again later');
    const done = await withinLimits(worker, this.limits.seconds, () => this.ask(worker, job));
    if (done.ok) return done.value;
    if (done.failure.kind === 'time') throw new PostedWorkRefused(413, `the posted files took more than ${this.limits.seconds} s to check: refused as too costly`);
    if (done.failure.kind === 'memory') throw new PostedWorkRefused(413, `the posted files need more than ${this.limits.heapMb} MiB to check: refused as too costly`);
    throw new PostedWorkRefused(503, 'the thread that checks posted files stopped under this request; it was not checked, try again');
  }

  private started(): Worker | undefined {
    if (this.worker) return this.worker;
    try {
      this.worker = startWorker(import.meta.url, 'review-worker', this.limits.heapMb);
    } catch (e) {
      this.onFallback((e as Error).message);
      return undefined;
    }
    this.worker.unref();
    this.worker.on('message', (reply: ReviewReply) => {
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) p?.resolve(reply.value);
      else p?.reject(new Error(reply.message));
    });
    const fail = (e: Error): void => {
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the review thread stopped (exit code ${code})`)));
    return this.worker;
  }
}
