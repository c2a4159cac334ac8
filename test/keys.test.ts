// API keys written by several command-line processes at once: none may be lost.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KeyStore } from '../src/keys/store.js';
import { dataPaths } from '../src/server.js';
import { BIN, ROOT } from './helpers.js';

const run = promisify(execFile);

describe('covenant keys', () => {
  it('keeps every key that concurrent `keys add` and `keys revoke` processes wrote', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'covenant-keys-'));
    const first = await KeyStore.open(dataPaths(dataDir).keys);
    const { record: doomed } = await first.add({ role: 'auditor' }, new Date());
    const partners = ['politie', 'om', 'douane', 'belastingdienst', 'fiod', 'kmar'];
    const added = await Promise.all([
      ...partners.map((p) => run(process.execPath, [BIN, 'keys', 'add', '--role', 'partner', '--partner', p, '--data', dataDir], { cwd: ROOT })),
      run(process.execPath, [BIN, 'keys', 'revoke', doomed.id, '--data', dataDir], { cwd: ROOT }),
    ]);
    const keys = added.slice(0, partners.length).map((r) => /cov_[A-Za-z0-9_-]+/.exec(r.stdout)?.[0]);
    const store = await KeyStore.open(dataPaths(dataDir).keys);
    expect(keys.map((k) => (k === undefined ? undefined : store.authenticate(k)?.partner))).toEqual(partners);
    expect(store.list().find((k) => k.id === doomed.id)?.revokedAt).toEqual(expect.any(String));
  });
});
