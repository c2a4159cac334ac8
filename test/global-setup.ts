// One temporary folder per test run, removed at its end: the tests make real files (logs, keys,
// rule folders) in os.tmpdir(), and a run would otherwise leave some 16 MB of them behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'covenant-tests-'));
  // Read by os.tmpdir() in the test workers and in the servers they start, which inherit it.
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
