// Starts a worker thread or a child process whose module is TypeScript, for when covenant runs
// from its sources (through tsx) rather than from dist/: neither inherits the caller's tsx. The
// module comes as the worker's data, or as the child's first argument.
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData?.module ?? process.argv[2]);
