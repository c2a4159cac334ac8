// Compiling the rule folders in a process of their own, at the lowest priority, while the service
// decides (compile-child.ts says why a process). The process has memory and time limits, so a
// covenant that cannot be compiled within them is refused like an invalid one (the last valid
// version keeps serving) instead of taking the service down. Only when no process can start at
// all is the work done here: slower for decisions meanwhile, never a wrong answer.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { archiveText } from '../audit/policy-archive.js';
import { withinLimits } from '../worker-thread.js';
import type { Covenant } from '../domain/covenant.js';
import type { Diagnostic } from '../domain/types.js';
import { hasErrors } from '../compile/index.js';
import { Assembly, reviveRule, type CovenantHead, type PortableRule } from '../compile/portable.js';
import { loadCovenant, type Folders } from './files.js';

/** A rule file of a loaded version: its name and the sha256 of its text, for the log. */
export interface VersionFile {
  readonly name: string;
  readonly sha256: string;
}

const fileOf = (d: { readonly name: string; readonly text: string }): VersionFile => ({
  name: d.name,
  sha256: `sha256:${createHash('sha256').update(d.text).digest('hex')}`,
});

/** What reading the folders gave: errors, the version already serving, or a new version. */
export type Compiled =
  | { readonly kind: 'invalid'; readonly diagnostics: readonly Diagnostic[] }
  | { readonly kind: 'unchanged'; readonly diagnostics: readonly Diagnostic[] }
  /** `archive`: the files' texts as the policy archive keeps them (its archiveText) */
  | { readonly kind: 'loaded'; readonly covenant: Covenant; readonly files: readonly VersionFile[]; readonly archive: string; readonly diagnostics: readonly Diagnostic[] };

/** A new version's files and archive text, as the service keeps them. */
export function versionFiles(policyVersion: string, documents: readonly { readonly name: string; readonly text: string }[]): { files: VersionFile[]; archive: string } {
  return { files: documents.map(fileOf), archive: archiveText(policyVersion, documents) };
}

/** Reads and compiles the folders; `current` is the policyVersion serving now, if any. */
export type Compiler = (folders: Folders, now: number, current: string | undefined) => Promise<Compiled>;

/** On the calling thread: for the first load, the command line, and when no process can start. */
export const compileHere: Compiler = async (folders, now, current) => {
  const loaded = await loadCovenant(folders, { now });
  if (!loaded.covenant || hasErrors(loaded.diagnostics)) return { kind: 'invalid', diagnostics: loaded.diagnostics };
  if (loaded.covenant.policyVersion === current) return { kind: 'unchanged', diagnostics: loaded.diagnostics };
  return { kind: 'loaded', covenant: loaded.covenant, ...versionFiles(loaded.covenant.policyVersion, loaded.documents), diagnostics: loaded.diagnostics };
};

export type CompileRequest =
  | { readonly op: 'compile'; readonly id: number; readonly folders: Folders; readonly now: number; readonly current: string | undefined }
  /** the next part of a compiled version: asked for once the last was taken in */
  | { readonly op: 'next'; readonly id: number };
export type CompileReply = { readonly id: number } & (
  | { readonly kind: 'invalid' | 'unchanged'; readonly diagnostics: readonly Diagnostic[] }
  /** the archive text's length: its pieces follow, then the rules */
  | { readonly kind: 'head'; readonly head: CovenantHead; readonly files: readonly VersionFile[]; readonly archiveLength: number; readonly diagnostics: readonly Diagnostic[] }
  | { readonly kind: 'text'; readonly piece: string }
  | { readonly kind: 'rules'; readonly rules: readonly PortableRule[] }
  | { readonly kind: 'done' }
  | { readonly kind: 'failed'; readonly message: string }
);

/** The compiling process's heap, and how long one reload may take in it. */
export const COMPILE_LIMITS = { heapMb: 1536, seconds: 120 } as const;

/** A reload being received: its head, the archive text piece by piece, then its rules part by part, filed as they come. */
type Pending = {
  readonly resolve: (c: Compiled) => void;
  readonly reject: (e: Error) => void;
  head?: Extract<CompileReply, { kind: 'head' }>;
  readonly archive: string[];
  readonly rules: Assembly;
};

/** The pause between taking in one part of a compiled version and asking for the next. */
const PART_INTERVAL_MS = 2;

/** The last stderr a failed process leaves, enough for V8's out-of-memory line. */
const STDERR_KEPT = 4096;

/**
 * The process starts with the service (start()) or at its first use, and stays for the next
 * reload, as starting it loads every module again (a new thread per reload had measured worse in
 * bench:reload); after a failure it starts anew at the next change.
 */
export class CompileProcess {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private closed = false;

  constructor(
    private readonly limits: { readonly heapMb: number; readonly seconds: number } = COMPILE_LIMITS,
    private readonly onFallback: (reason: string) => void = () => undefined,
  ) {}

  readonly compile: Compiler = async (folders, now, current) => {
    if (this.closed) return refused('the service is stopping');
    const child = this.started();
    if (!child) return compileHere(folders, now, current);
    const id = ++this.next;
    const done = await withinLimits(
      { terminate: () => child.kill('SIGKILL') },
      this.limits.seconds,
      () =>
        new Promise<Compiled>((resolve, reject) => {
          this.pending.set(id, { resolve, reject, archive: [], rules: new Assembly() });
          child.channel?.ref();
          child.send({ op: 'compile', id, folders, now, current } satisfies CompileRequest);
        }).finally(() => {
          // Idle, the process must not keep a stopping service alive.
          if (this.pending.size === 0) child.channel?.unref();
        }),
    );
    if (done.ok) return done.value;
    const f = done.failure;
    return refused(f.kind === 'time' ? `compiling them took more than ${this.limits.seconds} s` : f.kind === 'memory' ? `compiling them needs more than ${this.limits.heapMb} MiB` : `compiling them failed (${f.message})`);
  };

  /**
   * Starts the process ahead of the first change: spawning it holds this thread ~10 ms, which is
   * better spent before the service listens than in the middle of decisions.
   */
  start(): void {
    if (!this.closed) this.started();
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      // Waited for, the process must keep this one's loop alive until it is gone.
      child.ref();
      child.kill('SIGKILL');
    });
  }

  private started(): ChildProcess | undefined {
    if (this.child) return this.child;
    // From the sources the module is TypeScript, run through bin/ts-worker.js (a child does not
    // inherit this process's tsx); from dist/, the compiled module.
    const fromSources = import.meta.url.endsWith('.ts');
    const module = fileURLToPath(new URL(`./compile-child.${fromSources ? 'ts' : 'js'}`, import.meta.url));
    const args = fromSources ? [fileURLToPath(new URL('../../bin/ts-worker.js', import.meta.url)), module] : [module];
    let child: ChildProcess;
    try {
      // --single-threaded: V8 without its helper threads (parallel and concurrent GC, background
      // compiling). A process on one core leaves the other to the service; its helpers on both
      // cores had held the service's wake-ups for a scheduler slice (~3 ms) each (bench:reload).
      child = spawn(process.execPath, ['--single-threaded', `--max-old-space-size=${this.limits.heapMb}`, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
    } catch (e) {
      this.onFallback((e as Error).message);
      return undefined;
    }
    this.child = child;
    child.unref();
    child.channel?.unref();
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => void (stderr = (stderr + s).slice(-STDERR_KEPT)));
    (child.stderr as { unref?: () => void } | null)?.unref?.();
    child.on('message', (reply: CompileReply) => this.take(child, reply));
    const fail = (e: Error): void => {
      if (this.child === child) this.child = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      // V8 ends a process past its heap with this line and an abort: say which limit was hit.
      if (/heap out of memory/.test(stderr)) return fail(new Error('the compiling process ran out of memory'));
      fail(new Error(`the compiling process stopped (${signal ?? `exit code ${code}`})`));
    });
    return child;
  }

  private take(child: ChildProcess, reply: CompileReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    const settle = (c: Compiled | Error): void => {
      this.pending.delete(reply.id);
      if (c instanceof Error) p.reject(c);
      else p.resolve(c);
    };
    // A part at most every PART_INTERVAL_MS. Asked for at once, parts (~1.5 ms each to take apart)
    // came back to back and a decision, which needs several turns of the loop, waited behind one
    // at nearly every turn: most decisions of the intake took over 5 ms (bench:reload).
    const askNext = (): void => void setTimeout(() => child.send({ op: 'next', id: reply.id } satisfies CompileRequest), PART_INTERVAL_MS);
    try {
      switch (reply.kind) {
        case 'invalid':
          return settle({ kind: 'invalid', diagnostics: reply.diagnostics });
        case 'unchanged':
          return settle({ kind: 'unchanged', diagnostics: reply.diagnostics });
        case 'head':
          p.head = reply;
          return askNext();
        case 'text':
          p.archive.push(reply.piece);
          return askNext();
        case 'rules':
          p.rules.add(reply.rules.map(reviveRule));
          return askNext();
        case 'done': {
          const archive = p.archive.join('');
          if (!p.head || archive.length !== p.head.archiveLength) return settle(new Error('the compiled version came incomplete'));
          return settle({ kind: 'loaded', covenant: p.rules.covenant(p.head.head), files: p.head.files, archive, diagnostics: p.head.diagnostics });
        }
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
