// Tampering with what the log relies on besides its entries: the manifest (checkpoint, pruned
// prefix) and the archive of policy versions that replay evaluates under.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { exampleRequest, testServer } from './server-helpers.js';

describe('tampering with the data folder', () => {
  it('is exposed by verify, in the manifest and in the policy archive', async () => {
    const s = await testServer();
    await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: exampleRequest });
    await s.server.close();
    const verify = () => cli(['audit', 'verify', '--data', s.dataDir]);
    expect(verify().status).toBe(0);

    const versions = join(s.dataDir, 'policies', 'versions');
    const [version] = readdirSync(versions);
    const archived = join(versions, version!);
    const original = readFileSync(archived, 'utf8');
    writeFileSync(archived, original.replace('art-4-1-fiscal-to-fiod', 'art-4-1-fiscal-to-fioe'));
    const altered = verify();
    expect(altered.status).toBe(1);
    expect(altered.stdout).toMatch(/archived policy version sha256:[0-9a-f]{64} was altered/);
    writeFileSync(archived, original);
    expect(verify().status).toBe(0);
    // any byte of the archived file, also one that replay does not read (the name it repeats)
    const at = original.indexOf('"policyVersion":"sha256:') + '"policyVersion":"sha256:'.length;
    const digit = original[at] === 'a' ? 'b' : 'a';
    writeFileSync(archived, original.slice(0, at) + digit + original.slice(at + 1));
    expect(verify().status).toBe(1);
    writeFileSync(archived, original);

    const manifest = join(s.dataDir, 'log', 'manifest.json');
    const kept = readFileSync(manifest, 'utf8');
    // every byte of the manifest counts, also the time of the checkpoint and the layout
    const stamp = kept.indexOf('"at": "') + '"at": "'.length + 3;
    for (const changed of [kept.slice(0, -5), kept.slice(0, stamp) + (kept[stamp] === '1' ? '2' : '1') + kept.slice(stamp + 1), kept.replace('\n  "checkpoint"', '\n\t"checkpoint"')]) {
      expect(changed).not.toBe(kept);
      writeFileSync(manifest, changed);
      const broken = verify();
      expect(broken.status).toBe(1);
      expect(broken.stdout).toMatch(/manifest/);
    }
    writeFileSync(manifest, kept);
    expect(verify().status).toBe(0);
  });
});
