// One writer per decision log: a second `covenant serve` on the same data folder must not start,
// and a writer killed with SIGKILL must not keep the next one out.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockLog } from '../src/audit/writer-lock.js';
import { BIN, ROOT } from './helpers.js';
import { serveProcess } from './server-helpers.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'covenant-lock-'));
const IN_USE = /another `covenant serve` is writing to this data folder/;

/** Starts a process and resolves once its stdout has shown `ready`. */
function started(args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => ((out += d.toString()), ready.test(out) && resolve(child)));
    child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready: ${out}`)));
  });
}

const exited = (child: ChildProcess): Promise<number | null> => new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));

describe.each([
  ['an abstract socket', true],
  ['a socket file in the folder', false],
])('the log writer lock, as %s', (_kind, abstract) => {
  it('is held once: a second taker is refused until the first releases it', async () => {
    const dir = tmp();
    const first = await lockLog(dir, { abstract });
    await expect(lockLog(dir, { abstract })).rejects.toThrow(IN_USE);
    await first.release();
    const again = await lockLog(dir, { abstract });
    await again.release();
  });

  it.skipIf(abstract && process.platform !== 'linux')('is free again at once when its holder is killed with SIGKILL', async () => {
    const dir = tmp();
    const holder = await started(['--import', 'tsx', join('test', 'fixtures', 'hold-log-lock.ts'), dir, abstract ? 'abstract' : 'file'], /held/);
    await expect(lockLog(dir, { abstract })).rejects.toThrow(IN_USE);
    holder.kill('SIGKILL');
    await exited(holder);
    const next = await lockLog(dir, { abstract });
    await next.release();
  });
});

describe('covenant serve on a data folder another one is serving', () => {
  it('refuses to start and says why; once the first is killed with SIGKILL, the next starts at once', async () => {
    const dataDir = tmp();
    const first = (await serveProcess(dataDir)).child;
    const second = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    second.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    expect(await exited(second)).toBe(1);
    expect(err).toMatch(IN_USE);
    first.kill('SIGKILL');
    await exited(first);
    const third = (await serveProcess(dataDir)).child;
    third.kill('SIGTERM');
    expect(await exited(third)).toBe(0);
  });
});
