// Reloads compile on a thread of their own (issue 15, finding 5): a large covenant must not hold
// the service's thread, and what comes back must decide exactly as a covenant compiled here.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../bench/generate.js';
import { decide } from '../src/engine/index.js';
import { CompileThread, compileHere, type Compiled } from '../src/loader/compile-thread.js';
import type { Folders } from '../src/loader/files.js';

/** A folder holding a generated covenant of `count` rules, a third of them with `when` clauses. */
function generatedFolders(count: number): { folders: Folders; requests: Record<string, unknown>[] } {
  const dir = mkdtempSync(join(tmpdir(), 'covenant-compile-'));
  const g = generate(count, 7);
  const folders = { policies: join(dir, 'policies'), rules: join(dir, 'rules') };
  for (const f of Object.values(folders)) mkdirSync(f);
  writeFileSync(join(folders.policies, 'bench.json'), JSON.stringify(g.policies));
  writeFileSync(join(folders.rules, 'bench.json'), JSON.stringify({ rules: g.rules }, null, 1));
  return { folders, requests: g.requests };
}

/** How often the calling thread's event loop turned while `work` ran. */
async function turnsDuring<T>(work: Promise<T>): Promise<{ value: T; turns: number }> {
  let done = false;
  let turns = 0;
  const spin = (): void => {
    if (done) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  const value = await work.finally(() => (done = true));
  return { value, turns };
}

const loaded = (c: Compiled): Extract<Compiled, { kind: 'loaded' }> => {
  if (c.kind !== 'loaded') throw new Error(`not loaded: ${JSON.stringify(c.diagnostics.slice(0, 3))}`);
  return c;
};

const threads: CompileThread[] = [];
const thread = (limits?: { heapMb: number; seconds: number }): CompileThread => {
  const t = new CompileThread(limits, (reason) => {
    throw new Error(`no compiling thread: ${reason}`);
  });
  threads.push(t);
  return t;
};
afterAll(async () => {
  for (const t of threads) await t.close();
});

describe('compiling a reload on its own thread', () => {
  it('leaves the calling thread free while 3,000 rules compile, and decides as a covenant compiled here', async () => {
    const { folders, requests } = generatedFolders(3000);
    const t = thread();
    const onThread = await turnsDuring(t.compile(folders, Date.UTC(2025, 5, 1), undefined));
    const onThisThread = await turnsDuring(compileHere(folders, Date.UTC(2025, 5, 1), undefined));
    // Compiled here, the loop turns between the stages' awaits only, ~1,700 times in a second
    // where it turned ~1,300,000 times beside the thread: the same work measured both ways.
    expect(onThread.turns).toBeGreaterThan(20 * onThisThread.turns);
    const there = loaded(onThread.value);
    const here = loaded(onThisThread.value);
    expect(there.covenant.policyVersion).toBe(here.covenant.policyVersion);
    expect(there.files).toEqual(here.files);
    expect(there.diagnostics).toEqual(here.diagnostics);
    expect(there.covenant.rules.length).toBe(3000);
    expect(there.covenant.rules.filter((r) => r.when).length).toBeGreaterThan(500);
    let permits = 0;
    for (const [i, request] of requests.entries()) {
      const input = { now: Date.UTC(2025, 5, 1), decisionId: `d${i}` };
      const a = decide(there.covenant, request, input);
      expect(a).toEqual(decide(here.covenant, request, input));
      if (a.ok && a.value.decision === 'permit') permits++;
    }
    // the comparison means something only if both outcomes occur, `when` clauses deciding some
    expect(permits).toBeGreaterThan(0);
    expect(permits).toBeLessThan(requests.length);
  });

  it('answers "unchanged" for the version already serving, and "invalid" with the errors for broken files', async () => {
    const { folders } = generatedFolders(50);
    const t = thread();
    const first = loaded(await t.compile(folders, Date.now(), undefined));
    expect(await t.compile(folders, Date.now(), first.covenant.policyVersion)).toMatchObject({ kind: 'unchanged' });
    writeFileSync(join(folders.rules, 'broken.yaml'), 'rules:\n  - { id: r0, citation: "Art. 1", effect: permit }\n');
    const broken = await t.compile(folders, Date.now(), first.covenant.policyVersion);
    expect(broken.kind).toBe('invalid');
    expect(broken.diagnostics).toContainEqual(expect.objectContaining({ severity: 'error', code: 'duplicate-id', file: join(folders.rules, 'broken.yaml'), line: 2 }));
  });

  it('refuses, as invalid, files that need more memory or time than the thread has, and compiles the next change again', async () => {
    const big = generatedFolders(20_000).folders;
    const small = generatedFolders(50).folders;
    const lean = thread({ heapMb: 48, seconds: 120 });
    const refused = await lean.compile(big, Date.now(), undefined);
    expect(refused).toMatchObject({ kind: 'invalid', diagnostics: [{ severity: 'error', code: 'reload-failed', message: expect.stringMatching(/could not be loaded: compiling them needs more than 48 MiB$/) }] });
    expect(loaded(await lean.compile(small, Date.now(), undefined)).covenant.rules.length).toBe(50);
    const hasty = thread({ heapMb: 1536, seconds: 0.2 });
    const late = await hasty.compile(big, Date.now(), undefined);
    expect(late).toMatchObject({ kind: 'invalid', diagnostics: [{ code: 'reload-failed', message: expect.stringMatching(/took more than 0.2 s/) }] });
  });
});
