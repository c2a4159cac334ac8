// `covenant test [PATH...]`: runs policy tests; 0 all pass, 1 any fails or none ran (or the rule
// files are invalid), 2 an invalid test file.
import { readFile, stat } from 'node:fs/promises';
import type { Diagnostic, ParsedDocument } from '../domain/types.js';
import { hasErrors } from '../compile/index.js';
import { isTestFile, listFiles, loadCovenant } from '../loader/files.js';
import { parseText } from '../loader/parse.js';
import { runTests, type TestResult } from '../tester/index.js';
import { Exit, type ExitCode, type Io } from './io.js';
import { folders, type FolderFlags, type Format } from './options.js';
import { renderDiagnostics } from './render.js';

export async function testCommand(paths: string[], flags: FolderFlags & { format: Format }, io: Io): Promise<ExitCode> {
  const dirs = folders(flags, io);
  const loaded = await loadCovenant(dirs);
  if (!loaded.covenant || hasErrors(loaded.diagnostics)) {
    io.stderr(renderDiagnostics(loaded.diagnostics.filter((d) => d.severity === 'error')));
    io.stderr('error: the rule files are invalid; no test ran\n');
    return Exit.failed;
  }
  const { documents, diagnostics } = await readTestFiles(paths.length > 0 ? paths : [dirs.policies, dirs.rules], paths.length > 0);
  const run = diagnostics.length > 0 ? undefined : runTests(loaded.covenant, documents, io.now());
  const problems = [...diagnostics, ...(run?.diagnostics ?? [])];
  if (problems.length > 0 || !run) {
    if (flags.format === 'json') io.stdout(JSON.stringify({ valid: false, diagnostics: problems }, null, 2) + '\n');
    else io.stderr(renderDiagnostics(problems) + 'error: invalid test file; no test ran\n');
    return Exit.invalid;
  }
  const passed = run.results.filter((r) => r.passed).length;
  const failed = run.results.length - passed;
  const status = run.results.length > 0 && failed === 0 ? Exit.ok : Exit.failed;
  if (flags.format === 'json') {
    io.stdout(
      JSON.stringify(
        {
          valid: true,
          policyVersion: loaded.covenant.policyVersion,
          passed,
          failed,
          results: run.results.map((r) => ({
            file: r.file,
            line: r.line,
            name: r.name,
            passed: r.passed,
            expected: r.expect,
            actual: r.decision.decision,
            missingRules: r.missingRules,
            ...(!r.passed && { decision: r.decision }),
          })),
          coverage: {
            rules: loaded.covenant.rules.length,
            exercised: loaded.covenant.rules.length - run.unexercised.length,
            unexercised: run.unexercised,
          },
        },
        null,
        2,
      ) + '\n',
    );
    return status;
  }
  for (const r of run.results) io.stdout(renderResult(r));
  const total = loaded.covenant.rules.length;
  io.stdout(
    `\ncoverage: ${total - run.unexercised.length}/${total} rules exercised` +
      (run.unexercised.length > 0 ? `; not exercised by any test: ${run.unexercised.join(', ')}` : '') +
      '\n',
  );
  if (run.results.length === 0) io.stdout('no test ran\n');
  io.stdout(`${passed} passed, ${failed} failed\n`);
  return status;
}

function renderResult(r: TestResult): string {
  const place = `${r.file}${r.line !== undefined ? `:${r.line}` : ''}`;
  if (r.passed) return `ok    ${r.name}  (${place})\n`;
  const lines = [`FAIL  ${r.name}  (${place})`];
  if (r.decision.decision !== r.expect) lines.push(`      expected ${r.expect}, got ${r.decision.decision}`);
  if (r.missingRules.length > 0) lines.push(`      expected rules that did not apply: ${r.missingRules.join(', ')}`);
  for (const c of r.decision.categories) {
    const why = c.decision === 'deny' ? ` (${c.reason})` : '';
    lines.push(`      ${c.category}: ${c.decision}${why}${c.rules.length > 0 ? ` by ${c.rules.join(', ')}` : ''}`);
  }
  for (const reason of r.decision.reasons) lines.push(`      - ${reason.message.en}`);
  for (const miss of r.decision.nearMisses) {
    lines.push(`      near miss ${miss.rule} (${miss.citation}) for ${miss.category}:`);
    for (const m of miss.misses) lines.push(`        · ${m.message.en}`);
  }
  return lines.join('\n') + '\n';
}

/** Test files from the given paths: a folder gives its *.test.* files, a file is taken as it is. */
async function readTestFiles(paths: readonly string[], explicit: boolean): Promise<{ documents: ParsedDocument[]; diagnostics: Diagnostic[] }> {
  const documents: ParsedDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) files.push(...(await listFiles(path)).filter(isTestFile));
    else if (info?.isFile()) files.push(path);
    else if (explicit) diagnostics.push({ severity: 'error', code: 'missing-file', message: `no such test file or folder \`${path}\``, file: path });
  }
  for (const file of [...new Set(files)]) {
    const parsed = parseText(file, await readFile(file, 'utf8'));
    if (parsed.ok) documents.push(parsed.document);
    else diagnostics.push(...parsed.diagnostics);
  }
  return { documents, diagnostics };
}
