// Starting a worker thread with a heap limit, from dist/ or from the sources.
import { Worker } from 'node:worker_threads';

/**
 * A worker running module `name` beside `caller` (its import.meta.url): from dist/, the compiled
 * module; from the sources, the TypeScript one through bin/ts-worker.js, as a worker does not
 * inherit the main thread's tsx. A worker over its heap limit stops alone, not the process.
 */
export function startWorker(caller: string, name: string, heapMb: number): Worker {
  const fromSources = caller.endsWith('.ts');
  const module = new URL(`./${name}.${fromSources ? 'ts' : 'js'}`, caller);
  const resourceLimits = { maxOldGenerationSizeMb: heapMb };
  if (!fromSources) return new Worker(module, { resourceLimits });
  return new Worker(new URL('../bin/ts-worker.js', import.meta.url), { workerData: { module: module.href }, resourceLimits });
}

/** Why work on a worker failed: it ran past its time (and was stopped), past its heap, or otherwise. */
export type WorkerFailure = { readonly kind: 'time' } | { readonly kind: 'memory' } | { readonly kind: 'other'; readonly message: string };

/**
 * `work` on `worker` (a thread, or a process that can be stopped alike), which is stopped when the work takes longer than `seconds`. A failure comes
 * back as a value that says which limit was hit, for an answer a person can act on.
 */
export async function withinLimits<T>(worker: { terminate(): unknown }, seconds: number, work: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; failure: WorkerFailure }> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void worker.terminate();
  }, seconds * 1000);
  try {
    return { ok: true, value: await work() };
  } catch (e) {
    if (timedOut) return { ok: false, failure: { kind: 'time' } };
    const message = (e as Error).message;
    if (/out of memory|ERR_WORKER_OUT_OF_MEMORY/i.test(message) || (e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') return { ok: false, failure: { kind: 'memory' } };
    return { ok: false, failure: { kind: 'other', message } };
  } finally {
    clearTimeout(timer);
  }
}
