// The small state (keys, the log's manifest, the index of policy versions) written so that a
// power loss leaves the old file or the new one, never an empty one.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyStore } from '../src/keys/store.js';
import { dataPaths } from '../src/server.js';
import { openState } from '../src/small-state.js';
import { BIN, ROOT } from './helpers.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'covenant-state-'));
const hasStrace = spawnSync('strace', ['-V']).status === 0;

describe('small state', () => {
  // A power loss cannot be staged in a test; the order of the system calls that make a write
  // durable can be watched.
  it.skipIf(!hasStrace)('is on disk when `keys revoke` returns: data fsynced before the rename, the folder after it', async () => {
    const dataDir = tmp();
    const store = await KeyStore.open(dataPaths(dataDir).keys);
    const { record } = await store.add({ role: 'auditor' }, new Date());
    const trace = join(dataDir, 'strace.out');
    const run = spawnSync('strace', ['-f', '-e', 'trace=openat,fsync,fdatasync,rename,renameat,renameat2', '-o', trace, process.execPath, BIN, 'keys', 'revoke', record.id, '--data', dataDir], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(0);

    // Each fsync resolved to the file its descriptor was opened on at the time.
    const fds = new Map<string, string>();
    const events: string[] = [];
    for (const line of readFileSync(trace, 'utf8').split('\n')) {
      const opened = /openat\(AT_FDCWD, "([^"]+)", [^)]*\) = (\d+)$/.exec(line);
      if (opened) fds.set(opened[2] as string, opened[1] as string);
      const synced = /f(?:data)?sync\((\d+)\)\s+= 0/.exec(line);
      if (synced) events.push(`sync ${fds.get(synced[1] as string)}`);
      const renamed = /rename\w*\((?:AT_FDCWD, )?"([^"]+)", (?:AT_FDCWD, )?"([^"]+)"/.exec(line);
      if (renamed) events.push(`rename ${renamed[1]} -> ${renamed[2]}`);
    }
    const keys = dataPaths(dataDir).keys;
    const rename = events.findIndex((e) => e.startsWith('rename ') && e.endsWith(` -> ${keys}`));
    expect(rename).toBeGreaterThan(-1);
    const temp = (events[rename] as string).slice('rename '.length).split(' -> ')[0];
    expect(events.slice(0, rename)).toContain(`sync ${temp}`);
    expect(events.slice(rename + 1)).toContain(`sync ${dataDir}`);
  });

  it('writes whole files and leaves no temporary ones, the last of concurrent writes winning', async () => {
    const dir = tmp();
    const path = join(dir, 'state.json');
    const state = await openState<{ n: number }>(path, { n: 0 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => state.update((d) => void (d.n = i + 1))));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ n: 20 });
    expect(readdirSync(dir)).toEqual(['state.json']);
    expect((await openState<{ n: number }>(path, { n: 0 })).data).toEqual({ n: 20 });
  });

  it.each([
    ['keys.json', (d: string) => dataPaths(d).keys],
    ['the log manifest', (d: string) => join(dataPaths(d).log, 'manifest.json')],
  ])('that is damaged (%s) stops the service from starting, and the message names the file', async (_what, pathOf) => {
    const dataDir = tmp();
    const first = spawnSync(process.execPath, [BIN, 'keys', 'add', '--role', 'auditor', '--data', dataDir], { cwd: ROOT, encoding: 'utf8' });
    expect(first.status).toBe(0);
    // what a power loss can leave of a file renamed into place before its data was on disk
    mkdirSync(dirname(pathOf(dataDir)), { recursive: true });
    writeFileSync(pathOf(dataDir), '');
    const serve = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--data', dataDir], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(serve.status).not.toBe(0);
    expect(serve.stderr).toContain(`${pathOf(dataDir)} is not valid JSON: it was damaged or altered`);
  });
});
