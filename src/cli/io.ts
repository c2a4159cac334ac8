// The CLI's side of the world: streams, environment and clock, passed to every command so that
// tests can run commands in-process and commands never reach for globals.
import { printable } from '../domain/text.js';

export interface Io {
  readonly stdout: (text: string) => void;
  /** for long output: resolves once the text is taken, so a slow reader holds the writer back */
  readonly stdoutAsync: (text: string) => Promise<void>;
  readonly stderr: (text: string) => void;
  readonly stdin: () => Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now: () => number;
}

/** Exit statuses are part of the contract (CONTRACT 4): name them once. */
export const Exit = { ok: 0, failed: 1, invalid: 2 } as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

export async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// Text for a terminal never carries control characters from the data (ESC sequences, BEL);
// stdoutAsync carries exports, whose bytes their digest covers, and which escape their own.
export const processIo = (): Io => ({
  stdout: (t) => process.stdout.write(printable(t)),
  stdoutAsync: (t) => (process.stdout.write(t) ? Promise.resolve() : new Promise((resolve) => process.stdout.once('drain', () => resolve()))),
  stderr: (t) => process.stderr.write(printable(t)),
  stdin: () => readStream(process.stdin),
  env: process.env,
  now: () => Date.now(),
});
