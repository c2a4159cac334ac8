// The review routes' work and the log's verification on a worker thread: the same answers as on
// the service's thread; reading the log still answered when the worker dies, posted files never
// redone on the service's thread.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SegmentLog, verifyDirectory } from '../src/audit/segment-log.js';
import type { EntryDraft } from '../src/audit/types.js';
import { PostedWorkRefused, ReviewThread } from '../src/service/review-thread.js';
import { impactOfFiles, validateFiles } from '../src/service/posted-files.js';
import { buildReport } from '../src/service/report.js';
import { exportDigest, exportLog } from '../src/service/export.js';
import { ROOT } from './helpers.js';
import { PolicyArchive } from '../src/audit/policy-archive.js';
import { covenantFromFiles } from '../src/service/review.js';
import { buildMatrix, renderMatrix } from '../src/engine/matrix.js';

const files = [
  ...readdirSync(join(ROOT, 'policies')).map((f) => ({ name: `policies/${f}`, content: readFileSync(join(ROOT, 'policies', f), 'utf8') })),
  ...readdirSync(join(ROOT, 'rules'))
    .filter((f) => !f.includes('.test.'))
    .map((f) => ({ name: `rules/${f}`, content: readFileSync(join(ROOT, 'rules', f), 'utf8') })),
];
const broken = [...files, { name: 'rules/broken.yaml', content: 'rules:\n  - id: [' }];
const NOW = Date.parse('2025-06-01T00:00:00Z');

async function emptyLog(): Promise<{ log: SegmentLog; dir: string }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'covenant-review-')), 'log');
  return { log: await SegmentLog.open(dir), dir };
}

describe('the review thread', () => {
  it('answers as this thread does, for valid and invalid files', async () => {
    const { log, dir } = await emptyLog();
    const v = new ReviewThread(log, dir);
    try {
      expect(await v.validate(files, NOW)).toEqual(validateFiles(files, NOW));
      expect(await v.validate(broken, NOW)).toEqual(validateFiles(broken, NOW));
      expect((await v.validate(files, NOW)).valid).toBe(true);
      expect(await v.impact(files, {})).toEqual(await impactOfFiles(log, files, {}));
      expect(await v.impact(broken, {})).toEqual(await impactOfFiles(log, broken, {}));
    } finally {
      await v.close();
      await log.close();
    }
  });

  it('works out the matrix of the version serving from the archive, as this thread would, in every format', async () => {
    const { log, dir } = await emptyLog();
    const archiveDir = join(dir, '..', 'policies');
    const archive = await PolicyArchive.open(archiveDir);
    const texts = files.map((f) => ({ name: f.name, text: f.content }));
    const compiled = covenantFromFiles(texts).covenant;
    if (!compiled) throw new Error('the example covenant does not compile');
    await archive.put(compiled.policyVersion, texts, new Date(NOW).toISOString());
    const v = new ReviewThread(log, { kind: 'folder', logDir: dir, archiveDir });
    try {
      for (const format of ['json', 'md', 'csv', 'html'] as const) {
        const here = renderMatrix(buildMatrix(compiled, NOW), format);
        const there = await v.matrix(compiled.policyVersion, NOW, format, () => 'worked out here');
        expect(there).toBe(here);
      }
      // a version the archive does not hold is worked out here rather than not at all
      expect(await v.matrix(`sha256:${'0'.repeat(64)}`, NOW, 'json', () => 'worked out here')).toBe('worked out here');
    } finally {
      await v.close();
      await log.close();
    }
  });

  it('never redoes posted files on this thread: a request whose worker dies under it is refused (503), and a new worker takes the next', async () => {
    const reasons: string[] = [];
    const { log, dir } = await emptyLog();
    const v = new ReviewThread(log, dir, (reason) => reasons.push(reason));
    try {
      await v.validate(files, NOW);
      const inFlight = v.validate(files, NOW);
      await (v as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      const refused = await inFlight.then(() => undefined, (e: unknown) => e);
      expect(refused).toBeInstanceOf(PostedWorkRefused);
      expect(refused).toMatchObject({ status: 503 });
      expect(reasons).toEqual([]);
      expect(await v.validate(broken, NOW)).toEqual(validateFiles(broken, NOW));
    } finally {
      await v.close();
      await log.close();
    }
  });

  it('refuses posted files that take longer or need more memory than allowed (413), and goes on', async () => {
    const { log, dir } = await emptyLog();
    const slow = new ReviewThread(log, dir, undefined, { heapMb: 768, seconds: 0.05 });
    const small = new ReviewThread(log, dir, undefined, { heapMb: 32, seconds: 60 });
    try {
      const many = [...files, { name: 'rules/many.yaml', content: `rules:\n${Array.from({ length: 3000 }, (_, i) => `  - { id: r${i}, citation: x, effect: permit }`).join('\n')}\n` }];
      await expect(slow.validate(many, NOW)).rejects.toMatchObject({ status: 413, message: expect.stringMatching(/took more than 0.05 s/) });
      const big = { name: 'rules/big.yaml', content: `x: [${'"0123456789abcdef0123456789abcdef0123456789abcdef",'.repeat(400_000)}]\n` };
      await expect(small.validate([...files, big], NOW)).rejects.toMatchObject({ status: 413, message: expect.stringMatching(/more than 32 MiB/) });
      // a new worker takes the next request
      expect((await small.validate(files, NOW)).valid).toBe(true);
    } finally {
      await slow.close();
      await small.close();
      await log.close();
    }
  });

  it('lists, verifies, reports and digests the log as this thread does, and names the same first bad entry', async () => {
    const { log, dir } = await emptyLog();
    const v = new ReviewThread(log, dir);
    try {
      for (let i = 0; i < 20; i++) {
        const at = NOW + i * 1000;
        const draft = { kind: 'refusal', id: log.newId(at), at: new Date(at).toISOString(), caller: { keyId: 'k', role: 'auditor' }, route: 'GET /v1/decisions', status: 400, errors: [], request: { i } } as EntryDraft;
        await log.append(draft);
      }
      expect(await v.verify()).toEqual({ ...(await verifyDirectory(dir)), ok: true });
      // done on the worker, not here
      expect((v as unknown as { worker?: unknown }).worker).toBeDefined();
      const segment = join(dir, 'segments', readdirSync(join(dir, 'segments'))[0] as string);
      writeFileSync(segment, readFileSync(segment, 'utf8').replace('{"i":7}', '{"i":8}'));
      // listing, the report and an export's digest read the same log there
      const first = await v.list({ kinds: ['refusal'] }, { limit: 5 });
      expect(first).toEqual(await log.list({ kinds: ['refusal'] }, { limit: 5 }));
      expect(first.items.map((e) => e.seq)).toEqual([20, 19, 18, 17, 16]);
      expect(await v.list({ kinds: ['refusal'] }, { limit: 5, before: first.next as number })).toEqual(await log.list({ kinds: ['refusal'] }, { limit: 5, before: first.next as number }));
      expect((await v.list({ kinds: ['decision'] }, { limit: 5 })).items).toEqual([]);
      const period = { from: NOW + 3000, to: NOW + 15_000 };
      expect(await v.report(period, undefined, NOW)).toEqual(await buildReport(log, period, { now: NOW }));
      expect((await v.report({}, undefined, NOW)).refusals).toBe(20);
      for (const format of ['ndjson', 'csv'] as const) expect(await v.exportDigest(period, format)).toEqual(await exportDigest(log, period, format));
      expect((await v.exportDigest({}, 'ndjson')).count).toBe(20);
      const text = async (chunks: AsyncIterable<string>): Promise<string> => {
        let all = '';
        for await (const c of chunks) all += c;
        return all;
      };
      for (const format of ['ndjson', 'csv'] as const) expect(await text(v.exportChunks(period, format))).toBe(await text(exportLog(log, period, format, () => undefined)));
      expect((await text(v.exportChunks({}, 'ndjson'))).split('\n')).toHaveLength(21);

      const bad = await v.verify();
      expect(bad).toEqual(await verifyDirectory(dir));
      expect(bad).toMatchObject({ ok: false, firstBad: { seq: 8, problem: 'altered' } });
    } finally {
      await v.close();
      await log.close();
    }
  });

  it('ends an export with an error when its worker dies in the middle, never with a cut one that looks whole', async () => {
    const { log, dir } = await emptyLog();
    // Enough entries for several chunks.
    const bulky = { note: 'x'.repeat(4000) };
    await Promise.all(Array.from({ length: 300 }, (_, i) => {
      const at = NOW + i;
      return log.append({ kind: 'refusal', id: log.newId(at), at: new Date(at).toISOString(), caller: { keyId: 'k', role: 'auditor' }, route: 'GET /v1/decisions', status: 400, errors: [], request: { i, bulky } } as EntryDraft);
    }));
    const v = new ReviewThread(log, dir);
    try {
      const chunks = v.exportChunks({}, 'ndjson');
      const first = await chunks.next();
      expect(first.done).toBe(false);
      await (v as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      await expect(chunks.next()).rejects.toThrow(/stopped/);
    } finally {
      await v.close();
      await log.close();
    }
  });
});
