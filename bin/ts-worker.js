// Starts a worker thread whose module is TypeScript, for when covenant runs from its sources
// (through tsx) rather than from dist/: a worker does not inherit the main thread's tsx.
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData.module);
