// The thread that reads, parses and compiles the rule folders when they change, so that a large
// covenant (10,000 rules take seconds) never holds a decision up on the service's thread.
//
// The compiled covenant goes back in parts, one part each time the service's thread asks for the
// next: a structured clone of 10,000 rules takes ~50 ms to take apart on the receiving thread, and
// Node hands every message waiting on a port over in one go, so parts sent all at once had held
// the decisions up for 100-140 ms in a row. Asked for one by one, decisions go on between them.
import { parentPort } from 'node:worker_threads';
import { hasErrors } from '../compile/index.js';
import { headOf, portableRule } from '../compile/portable.js';
import { loadCovenant } from './files.js';
import { fileOf, type CompileReply, type CompileRequest } from './compile-thread.js';

const RULES_PER_PART = 500;

/** The parts of each compiled version still to be sent, by request id. */
const sending = new Map<number, Iterator<CompileReply>>();

function* parts(id: number, covenant: NonNullable<Awaited<ReturnType<typeof loadCovenant>>['covenant']>, rest: Omit<Extract<CompileReply, { kind: 'head' }>, 'id' | 'kind' | 'head'>): Generator<CompileReply> {
  yield { id, kind: 'head', head: headOf(covenant), ...rest };
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
  const next = parts(id, loaded.covenant, { files: loaded.documents.map(fileOf), diagnostics: loaded.diagnostics });
  sending.set(id, next);
  return next.next().value as CompileReply;
}

function nextPart(id: number): CompileReply {
  const next = sending.get(id)?.next();
  if (!next || next.done) return { id, kind: 'failed', message: `no part of version ${id} is left to send` };
  if (next.value.kind === 'done') sending.delete(id);
  return next.value;
}

parentPort?.on('message', (request: CompileRequest) => {
  const post = (reply: CompileReply): void => parentPort?.postMessage(reply);
  if (request.op === 'next') return post(nextPart(request.id));
  compile(request).then(post, (e: unknown) => post({ id: request.id, kind: 'failed', message: e instanceof Error ? e.message : String(e) }));
});
