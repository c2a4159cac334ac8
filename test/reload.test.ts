// The rule folders as deploys change them: a folder replaced by another is followed, and so are
// later edits to it. Run as its own process, as an operator runs it.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyStore } from '../src/keys/store.js';
import { dataPaths } from '../src/server.js';
import { ROOT, waitFor } from './helpers.js';
import { exampleRequest, serveProcess } from './server-helpers.js';

describe('a rules folder replaced by another, as a deploy swaps folders', () => {
  it('is followed: the new folder is loaded, and so are later edits to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'covenant-swap-'));
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    cpSync(join(ROOT, 'rules'), join(dir, 'rules'), { recursive: true });
    const dataDir = join(dir, 'data');
    const keys = await KeyStore.open(dataPaths(dataDir).keys);
    const auditor = (await keys.add({ role: 'auditor' }, new Date())).key;
    const partner = (await keys.add({ role: 'partner', partner: 'belastingdienst' }, new Date())).key;
    const { child, url } = await serveProcess(dataDir, ['--policies', join(dir, 'policies'), '--rules', join(dir, 'rules')]);
    const version = async (): Promise<string> =>
      ((await (await fetch(`${url}/v1/policy`, { headers: { authorization: `Bearer ${auditor}` } })).json()) as { policyVersion: string }).policyVersion;
    const decide = async (): Promise<{ decision: string; policyVersion: string }> =>
      (await fetch(`${url}/v1/decisions`, { method: 'POST', headers: { authorization: `Bearer ${partner}`, 'content-type': 'application/json' }, body: JSON.stringify(exampleRequest) })).json() as Promise<{ decision: string; policyVersion: string }>;
    // 4 s: well beyond the watcher's debounce (200 ms) and its check of the folders (every 2 s).
    const changedFrom = (before: string): Promise<string> => waitFor(async () => {
      const v = await version();
      return v !== before ? v : undefined;
    }, 4000);
    const deny = (category: string): string => `rules:\n  - { id: extra-deny, citation: "Art. 99", effect: deny, categories: [${category}] }\n`;
    try {
      const v1 = await version();
      cpSync(join(dir, 'rules'), join(dir, 'rules.new'), { recursive: true });
      writeFileSync(join(dir, 'rules.new', 'extra.yaml'), deny('fiscal.income'));
      renameSync(join(dir, 'rules'), join(dir, 'rules.old'));
      renameSync(join(dir, 'rules.new'), join(dir, 'rules'));
      const v2 = await changedFrom(v1);
      expect(await decide()).toMatchObject({ decision: 'deny', policyVersion: v2 });
      // later, an edit in the folder now in place, which a watcher of the old folder never hears of
      await new Promise((r) => setTimeout(r, 2500));
      writeFileSync(join(dir, 'rules', 'later.yaml'), deny('customs.declarations').replace('extra-deny', 'later-deny'));
      const v3 = await changedFrom(v2);
      expect(await decide()).toMatchObject({ decision: 'deny', policyVersion: v3 });
      // the log shows when each version went live, before any decision under it
      const all = (await (await fetch(`${url}/v1/decisions?kind=all`, { headers: { authorization: `Bearer ${auditor}` } })).json()) as { items: { kind: string; seq: number; policyVersion?: string; cause?: string; files?: { name: string; sha256: string }[] }[] };
      const policies = all.items.filter((e) => e.kind === 'policy');
      expect(policies.map((e) => [e.policyVersion, e.cause])).toEqual([[v3, 'reload'], [v2, 'reload'], [v1, 'start']]);
      expect(policies[0]?.files).toContainEqual({ name: 'rules/later.yaml', sha256: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
      for (const p of policies) {
        const under = all.items.filter((e) => e.kind === 'decision' && e.policyVersion === p.policyVersion);
        expect(under.every((d) => d.seq > p.seq)).toBe(true);
      }
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
});

describe('a rule file saved in any way', () => {
  it('is served as it is on disk within 2 s: in place, renamed over (sed -i), rsync-style with its old mtime, git checkout, and in place again after those', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'covenant-save-'));
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    cpSync(join(ROOT, 'rules'), join(dir, 'rules'), { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.email=t@example', '-c', 'user.name=t', ...args], { stdio: 'ignore' });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'covenant');
    const dataDir = join(dir, 'data');
    const keys = await KeyStore.open(dataPaths(dataDir).keys);
    const partner = (await keys.add({ role: 'partner', partner: 'belastingdienst' }, new Date())).key;
    const { child, url } = await serveProcess(dataDir, ['--policies', join(dir, 'policies'), '--rules', join(dir, 'rules')]);
    const file = join(dir, 'rules', 'fiscal.yaml');
    const original = readFileSync(file, 'utf8');
    const withDays = (days: number) => original.replace('- { type: retention, days: 365 }', `- { type: retention, days: ${days} }`);
    const retention = async (): Promise<number> => {
      const d = (await (await fetch(`${url}/v1/decisions`, { method: 'POST', headers: { authorization: `Bearer ${partner}`, 'content-type': 'application/json' }, body: JSON.stringify(exampleRequest) })).json()) as { obligations: { type: string; days?: number }[] };
      return d.obligations.find((o) => o.type === 'retention')?.days ?? -1;
    };
    const served = (days: number) => waitFor(async () => ((await retention()) === days ? true : undefined), 2500);
    try {
      expect(await retention()).toBe(365);
      const renameOver = (text: string, mtime?: Date) => {
        const tmp = join(dir, 'rules', '.fiscal.yaml.tmp');
        writeFileSync(tmp, text);
        if (mtime) utimesSync(tmp, mtime, mtime);
        renameSync(tmp, file);
      };
      renameOver(withDays(366)); // as sed -i and many editors save
      await served(366);
      writeFileSync(file, withDays(367)); // in place, after a rename: the case that was missed
      await served(367);
      renameOver(withDays(368), new Date('2020-01-01')); // as rsync does, keeping the source's old mtime
      await served(368);
      git('checkout', '--', 'rules/fiscal.yaml');
      await served(365);
      writeFileSync(file, withDays(369));
      await served(369);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
