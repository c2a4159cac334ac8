// Validation of posted rule files on a worker thread. The worker starts on first use and is
// started again after it fails; if it cannot run at all, validation runs here, on the service's
// thread, as before: slower for decisions meanwhile, never a wrong answer.
import { Worker } from 'node:worker_threads';
import { validateFiles, type PostedFile, type ValidationReport } from './validate-files.js';
import type { ValidateReply, ValidateRequest } from './validate-worker.js';

type Pending = { resolve: (r: ValidationReport) => void; reject: (e: Error) => void };

export class Validator {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private closed = false;

  constructor(private readonly onFallback: (reason: string) => void = () => undefined) {}

  async validate(files: readonly PostedFile[], now: number): Promise<ValidationReport> {
    const worker = this.closed ? undefined : this.started();
    if (!worker) return validateFiles(files, now);
    const id = ++this.next;
    return new Promise<ValidationReport>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, files, now } satisfies ValidateRequest);
    }).catch((e: Error) => {
      this.onFallback(e.message);
      return validateFiles(files, now);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.terminate();
  }

  private started(): Worker | undefined {
    if (this.worker) return this.worker;
    try {
      this.worker = spawn();
    } catch (e) {
      this.onFallback((e as Error).message);
      return undefined;
    }
    this.worker.unref();
    this.worker.on('message', (reply: ValidateReply) => {
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) p?.resolve(reply.report);
      else p?.reject(new Error(reply.message));
    });
    const fail = (e: Error): void => {
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the validation thread stopped (exit code ${code})`)));
    return this.worker;
  }
}

/** From dist/, the compiled worker; from the sources, the TypeScript one through bin/ts-worker.js. */
function spawn(): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const module = new URL(fromSources ? './validate-worker.ts' : './validate-worker.js', import.meta.url);
  if (!fromSources) return new Worker(module);
  return new Worker(new URL('../../bin/ts-worker.js', import.meta.url), { workerData: { module: module.href } });
}
