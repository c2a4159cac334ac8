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
