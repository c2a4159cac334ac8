#!/usr/bin/env node
// The `covenant` command. `npm install` compiles the sources to dist/ (the `prepare` script);
// that build starts in a fraction of the time. When it is missing or older than any source (a
// developer editing src/), the TypeScript sources run directly through tsx instead, so what runs
// is always what is written.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.built');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function builtIsCurrent() {
  if (process.env.COVENANT_FROM_SOURCE || !existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return newest(join(root, 'src')) <= built && newest(join(root, 'schemas')) <= built;
}

let main;
if (builtIsCurrent()) {
  ({ main } = await import('../dist/src/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
// A reader that stops early (`covenant audit export | head`) closes the pipe: that ends the
// command quietly, as it does for other Unix tools, instead of with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
process.exitCode = await main(process.argv.slice(2));
