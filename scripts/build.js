// Compiles src/ to dist/ for a fast start (run by `npm install` through `prepare`). Never fails
// the install: without a build, bin/covenant.js runs the sources through tsx.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  console.warn('covenant: typescript is not installed; the command will run from the sources');
  process.exit(0);
}
rmSync('dist', { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync('dist', { recursive: true, force: true });
  console.warn('covenant: the build failed; the command will run from the sources');
  process.exit(0);
}
mkdirSync('dist', { recursive: true });
writeFileSync('dist/.built', `${new Date().toISOString()}\n`);
