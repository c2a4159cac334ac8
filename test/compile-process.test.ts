// Reloads compile in a process of their own (issue 15, finding 5): a large covenant must not hold
// the service's thread, and what comes back must decide exactly as a covenant compiled here.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../bench/generate.js';
import { decide } from '../src/engine/index.js';
import { CompileProcess, compileHere, type Compiled } from '../src/loader/compile-process.js';
import type { Folders } from '../src/loader/files.js';
import { serveProcess } from './server-helpers.js';

/** The compile processes whose parent is `parent`, from /proc. */
function compileChildrenOf(parent: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      // the command's name is in parentheses and may hold spaces: the fields after it are fixed
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('compile-child')) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The nice value of each thread of process `pid`. */
const niceOfThreads = (pid: number): number[] =>
  readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });

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

const threads: CompileProcess[] = [];
const thread = (limits?: { heapMb: number; seconds: number }): CompileProcess => {
  const t = new CompileProcess(limits, (reason) => {
    throw new Error(`no compiling process: ${reason}`);
  });
  threads.push(t);
  return t;
};
afterAll(async () => {
  for (const t of threads) await t.close();
});

describe('compiling a reload in a process of its own', () => {
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
    expect(there.archive).toBe(here.archive);
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

  it.runIf(process.platform === 'linux')('compiles at the lowest priority, in every thread of its process', async () => {
    const { folders } = generatedFolders(50);
    const before = new Set(compileChildrenOf(process.pid));
    const t = thread();
    loaded(await t.compile(folders, Date.now(), undefined));
    const [pid] = compileChildrenOf(process.pid).filter((p) => !before.has(p));
    if (pid === undefined) throw new Error('no compile process found');
    const nice = niceOfThreads(pid);
    // node's own helper threads (the collector's, the platform's) as well as its main thread
    expect(nice.length).toBeGreaterThan(3);
    expect(nice.every((n) => n === 19)).toBe(true);
  });

  it.runIf(process.platform === 'linux')('leaves no compile process behind when the service is killed without a word', async () => {
    const { child } = await serveProcess(mkdtempSync(join(tmpdir(), 'covenant-orphan-')));
    const pid = child.pid ?? 0;
    let compiling: number[] = [];
    for (let i = 0; i < 50 && compiling.length === 0; i++) {
      compiling = compileChildrenOf(pid);
      if (compiling.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(compiling).toHaveLength(1);
    child.kill('SIGKILL');
    const alive = (p: number): boolean => {
      try {
        process.kill(p, 0);
        return !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z ');
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && alive(compiling[0] ?? 0); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(compiling[0] ?? 0)).toBe(false);
  });
});
