// The process that reads, parses and compiles the rule folders when they change, so that a large
// covenant (10,000 rules take seconds) never holds a decision up on the service's thread.
//
// A process rather than a thread, at the lowest priority and without V8's helper threads
// (--single-threaded, compile-process.ts): on two cores a compiling thread, and the garbage
// collector's helpers for its heap (shared with the service's isolate inside one process), took
// the cores from the decisions and tripled their p99 (bench:reload, docs/benchmarks.md).
//
// The compiled covenant goes back in parts, one part each time the service asks for the next: a
// structured clone of 10,000 rules takes ~50 ms to take apart on the receiving thread, and Node
// hands every waiting message over in one go, so parts sent all at once had held the decisions up
// for 100-140 ms in a row. Asked for one by one, a few milliseconds apart, decisions go on between them.
import { readdirSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { hasErrors } from '../compile/index.js';
import { headOf, portableRule } from '../compile/portable.js';
import { loadCovenant } from './files.js';
import type { Covenant } from '../domain/covenant.js';
import type { Diagnostic } from '../domain/types.js';
import { versionFiles, type CompileReply, type CompileRequest, type VersionFile } from './compile-process.js';

const RULES_PER_PART = 50;
/**
 * The archive text (megabytes for a large covenant) in pieces, so that no one message takes a long
 * turn of the service's loop. A piece may end inside a surrogate pair: the structured clone keeps
 * UTF-16 code units as they are, and the pieces are joined before the text is used.
 */
const CHARS_PER_PIECE = 128 * 1024;

/**
 * Every thread of this process at the lowest priority. On Linux a priority belongs to a thread
 * (threads started later inherit their starter's), so each thread that exists already is lowered
 * by its id; elsewhere the process's is. Best effort: a system that refuses still compiles.
 */
function lowestPriority(): void {
  let threads: number[] = [0];
  try {
    threads = readdirSync('/proc/self/task').map(Number);
  } catch {
    // no /proc: the process as a whole
  }
  for (const id of threads) {
    try {
      setPriority(id, constants.priority.PRIORITY_LOW);
    } catch {
      // not permitted here: compiling at the usual priority is slower for decisions, not wrong
    }
  }
}

/** The parts of each compiled version still to be sent, by request id. */
const sending = new Map<number, Iterator<CompileReply>>();

function* parts(id: number, covenant: Covenant, files: readonly VersionFile[], archive: string, diagnostics: readonly Diagnostic[]): Generator<CompileReply> {
  yield { id, kind: 'head', head: headOf(covenant), files, archiveLength: archive.length, diagnostics };
  for (let i = 0; i < archive.length; i += CHARS_PER_PIECE) yield { id, kind: 'text', piece: archive.slice(i, i + CHARS_PER_PIECE) };
  for (let i = 0; i < covenant.rules.length; i += RULES_PER_PART) {
    yield { id, kind: 'rules', rules: covenant.rules.slice(i, i + RULES_PER_PART).map(portableRule) };
  }
  yield { id, kind: 'done' };
}

async function compile(request: Extract<CompileRequest, { op: 'compile' }>): Promise<CompileReply> {
  const { id } = request;
  const loaded = await loadCovenant(request.folders, { now: request.now });
  if (!loaded.covenant || hasErrors(loaded.diagnostics)) return { id, kind: 'invalid', diagnostics: loaded.diagnostics };
  // Nothing changed that counts: the service's thread need not take anything apart.
  if (loaded.covenant.policyVersion === request.current) return { id, kind: 'unchanged', diagnostics: loaded.diagnostics };
  const { files, archive } = versionFiles(loaded.covenant.policyVersion, loaded.documents);
  const next = parts(id, loaded.covenant, files, archive, loaded.diagnostics);
  sending.set(id, next);
  return next.next().value as CompileReply;
}

function nextPart(id: number): CompileReply {
  const next = sending.get(id)?.next();
  if (!next || next.done) return { id, kind: 'failed', message: `no part of version ${id} is left to send` };
  if (next.value.kind === 'done') sending.delete(id);
  return next.value;
}

lowestPriority();
// The service gone (stopped, or killed without a word): nothing is left to compile for.
process.on('disconnect', () => process.exit(0));
process.on('message', (request: CompileRequest) => {
  const post = (reply: CompileReply): void => void process.send?.(reply);
  if (request.op === 'next') return post(nextPart(request.id));
  compile(request).then(post, (e: unknown) => post({ id: request.id, kind: 'failed', message: e instanceof Error ? e.message : String(e) }));
});
