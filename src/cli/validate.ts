// `covenant validate`: load-time validation (CONTRACT 1.3); 0 valid, 1 invalid.
import { loadCovenant } from '../loader/files.js';
import { hasErrors } from '../compile/index.js';
import { Exit, type ExitCode, type Io } from './io.js';
import { folders, type FolderFlags, type Format } from './options.js';
import { count, renderDiagnostics } from './render.js';

export async function validateCommand(flags: FolderFlags & { format: Format }, io: Io): Promise<ExitCode> {
  const dirs = folders(flags, io);
  const loaded = await loadCovenant(dirs, { now: io.now() });
  const valid = !hasErrors(loaded.diagnostics) && loaded.covenant !== undefined;
  const c = loaded.covenant;
  const counts = c && {
    partners: c.partners.size,
    dataCategories: c.categories.size,
    purposes: c.purposes.size,
    legalBases: c.legalBases.size,
    rules: c.rules.length,
  };
  if (flags.format === 'json') {
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error').length;
    io.stdout(
      JSON.stringify(
        {
          valid,
          ...(c && { covenant: c.info.id, policyVersion: c.policyVersion, counts }),
          files: loaded.documents.map((d) => d.file),
          errors,
          warnings: loaded.diagnostics.length - errors,
          diagnostics: loaded.diagnostics,
        },
        null,
        2,
      ) + '\n',
    );
    return valid ? Exit.ok : Exit.failed;
  }
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error').length;
  const summary = `${count(errors, 'error')}, ${count(loaded.diagnostics.length - errors, 'warning')}`;
  (valid ? io.stdout : io.stderr)(renderDiagnostics(loaded.diagnostics));
  if (valid && c && counts) {
    io.stdout(
      `valid: covenant \`${c.info.id}\` from ${count(loaded.documents.length, 'file')} ` +
        `(${count(counts.partners, 'partner')}, ${count(counts.dataCategories, 'data category', 'data categories')}, ` +
        `${count(counts.purposes, 'purpose')}, ${count(counts.legalBases, 'legal basis', 'legal bases')}, ${count(counts.rules, 'rule')}); ${summary}\n` +
        `policyVersion ${c.policyVersion}\n`,
    );
    return Exit.ok;
  }
  io.stderr(`invalid: ${summary} in ${dirs.policies} and ${dirs.rules}\n`);
  return Exit.failed;
}
