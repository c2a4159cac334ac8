// The thread that validates posted rule files, so that parsing and compiling a large covenant
// never holds up a decision on the service's own thread. One request at a time, in order.
import { parentPort } from 'node:worker_threads';
import { validateFiles, type PostedFile } from './validate-files.js';

export type ValidateRequest = { readonly id: number; readonly files: readonly PostedFile[]; readonly now: number };
export type ValidateReply = { readonly id: number } & ({ readonly ok: true; readonly report: ReturnType<typeof validateFiles> } | { readonly ok: false; readonly message: string });

parentPort?.on('message', (request: ValidateRequest) => {
  let reply: ValidateReply;
  try {
    reply = { id: request.id, ok: true, report: validateFiles(request.files, request.now) };
  } catch (e) {
    reply = { id: request.id, ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  parentPort?.postMessage(reply);
});
