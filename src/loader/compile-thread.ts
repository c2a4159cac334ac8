// Compiling the rule folders on a thread of their own, while the service decides. The thread has
// memory and time limits, so a covenant that cannot be compiled within them is refused like an
// invalid one (the last valid version keeps serving) instead of taking the service down. Only
// when no thread can start at all is the work done here: slower for decisions meanwhile, never a
// wrong answer.
import { createHash } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { startWorker, withinLimits } from '../worker-thread.js';
import type { Covenant, Rule } from '../domain/covenant.js';
import type { Diagnostic } from '../domain/types.js';
import { hasErrors } from '../compile/index.js';
import { assemble, reviveRule, type CovenantHead, type PortableRule } from '../compile/portable.js';
import { loadCovenant, type Folders } from './files.js';

/** A rule file of a loaded version: its name, its text and the text's sha256, for the archive and the log. */
export interface VersionFile {
  readonly name: string;
  readonly text: string;
  readonly sha256: string;
}

export const fileOf = (d: { readonly name: string; readonly text: string }): VersionFile => ({
  name: d.name,
  text: d.text,
  sha256: `sha256:${createHash('sha256').update(d.text).digest('hex')}`,
});

/** What reading the folders gave: errors, the version already serving, or a new version. */
export type Compiled =
  | { readonly kind: 'invalid'; readonly diagnostics: readonly Diagnostic[] }
  | { readonly kind: 'unchanged'; readonly diagnostics: readonly Diagnostic[] }
  | { readonly kind: 'loaded'; readonly covenant: Covenant; readonly files: readonly VersionFile[]; readonly diagnostics: readonly Diagnostic[] };

/** Reads and compiles the folders; `current` is the policyVersion serving now, if any. */
export type Compiler = (folders: Folders, now: number, current: string | undefined) => Promise<Compiled>;

/** On the calling thread: for the first load, the command line, and when no thread can start. */
export const compileHere: Compiler = async (folders, now, current) => {
  const loaded = await loadCovenant(folders, { now });
  if (!loaded.covenant || hasErrors(loaded.diagnostics)) return { kind: 'invalid', diagnostics: loaded.diagnostics };
  if (loaded.covenant.policyVersion === current) return { kind: 'unchanged', diagnostics: loaded.diagnostics };
  return { kind: 'loaded', covenant: loaded.covenant, files: loaded.documents.map(fileOf), diagnostics: loaded.diagnostics };
};

export type CompileRequest =
  | { readonly op: 'compile'; readonly id: number; readonly folders: Folders; readonly now: number; readonly current: string | undefined }
  /** the next part of a compiled version: asked for once the last was taken in */
  | { readonly op: 'next'; readonly id: number };
export type CompileReply = { readonly id: number } & (
  | { readonly kind: 'invalid' | 'unchanged'; readonly diagnostics: readonly Diagnostic[] }
  | { readonly kind: 'head'; readonly head: CovenantHead; readonly files: readonly VersionFile[]; readonly diagnostics: readonly Diagnostic[] }
  | { readonly kind: 'rules'; readonly rules: readonly PortableRule[] }
  | { readonly kind: 'done' }
  | { readonly kind: 'failed'; readonly message: string }
);

/** The compiling thread's heap, and how long one reload may take on it. */
export const COMPILE_LIMITS = { heapMb: 1536, seconds: 120 } as const;

/** A reload being received: its head, then its rules part by part, revived as they come. */
type Pending = {
  readonly resolve: (c: Compiled) => void;
  readonly reject: (e: Error) => void;
  head?: Extract<CompileReply, { kind: 'head' }>;
  readonly rules: Rule[];
};

/**
 * The thread starts on first use and stays for the next reload, as starting it loads every module
 * again (a thread per reload measured worse in bench:reload); after a failure it starts anew.
 */
export class CompileThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private closed = false;

  constructor(
    private readonly limits: { readonly heapMb: number; readonly seconds: number } = COMPILE_LIMITS,
    private readonly onFallback: (reason: string) => void = () => undefined,
  ) {}

  readonly compile: Compiler = async (folders, now, current) => {
    if (this.closed) return refused('the service is stopping');
    const worker = this.started();
    if (!worker) return compileHere(folders, now, current);
    const id = ++this.next;
    const done = await withinLimits(
      worker,
      this.limits.seconds,
      () =>
        new Promise<Compiled>((resolve, reject) => {
          this.pending.set(id, { resolve, reject, rules: [] });
          worker.postMessage({ op: 'compile', id, folders, now, current } satisfies CompileRequest);
        }),
    );
    if (done.ok) return done.value;
    const f = done.failure;
    return refused(f.kind === 'time' ? `compiling them took more than ${this.limits.seconds} s` : f.kind === 'memory' ? `compiling them needs more than ${this.limits.heapMb} MiB` : `compiling them failed (${f.message})`);
  };

  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.terminate();
  }

  private started(): Worker | undefined {
    if (this.worker) return this.worker;
    let worker: Worker;
    try {
      worker = startWorker(import.meta.url, 'compile-worker', this.limits.heapMb);
    } catch (e) {
      this.onFallback((e as Error).message);
      return undefined;
    }
    this.worker = worker;
    worker.unref();
    worker.on('message', (reply: CompileReply) => this.take(worker, reply));
    const fail = (e: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the compiling thread stopped (exit code ${code})`)));
    return worker;
  }

  private take(worker: Worker, reply: CompileReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    const settle = (c: Compiled | Error): void => {
      this.pending.delete(reply.id);
      if (c instanceof Error) p.reject(c);
      else p.resolve(c);
    };
    // One part a turn of the event loop, so that decisions are answered between them.
    const askNext = (): void => void setImmediate(() => worker.postMessage({ op: 'next', id: reply.id } satisfies CompileRequest));
    try {
      switch (reply.kind) {
        case 'invalid':
          return settle({ kind: 'invalid', diagnostics: reply.diagnostics });
        case 'unchanged':
          return settle({ kind: 'unchanged', diagnostics: reply.diagnostics });
        case 'head':
          p.head = reply;
          return askNext();
        case 'rules':
          for (const r of reply.rules) p.rules.push(reviveRule(r));
          return askNext();
        case 'done':
          if (!p.head) return settle(new Error('the compiled version came without its head'));
          return settle({ kind: 'loaded', covenant: assemble(p.head.head, p.rules), files: p.head.files, diagnostics: p.head.diagnostics });
        case 'failed':
          return settle(new Error(reply.message));
      }
    } catch (e) {
      settle(e as Error);
    }
  }
}

const refused = (why: string): Compiled => ({
  kind: 'invalid',
  // At a reload the last valid version keeps serving; at start there is none, and serve says so.
  diagnostics: [{ severity: 'error', code: 'reload-failed', message: `the rule files could not be loaded: ${why}` }],
});
