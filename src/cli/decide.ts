// `covenant decide [FILE|-] [--at ISO]`: one decision as JSON on stdout.
// Exit 0 a decision (permit or deny), 2 an invalid request, 1 invalid rule files.
import { readFile } from 'node:fs/promises';
import { ulid } from 'ulid';
import { loadCovenant } from '../loader/files.js';
import { parseText } from '../loader/parse.js';
import { hasErrors } from '../compile/index.js';
import { decide } from '../engine/index.js';
import { Exit, type ExitCode, type Io } from './io.js';
import { flagTime, folders, type FolderFlags } from './options.js';
import { renderDiagnostics } from './render.js';

export async function decideCommand(file: string | undefined, flags: FolderFlags & { at?: string; unit?: string; function?: string; approvals?: string }, io: Io): Promise<ExitCode> {
  let at: number | undefined;
  if (flags.at !== undefined) {
    at = flagTime(flags.at);
    if (at === undefined) {
      io.stderr(`error: --at \`${flags.at}\` is not an RFC 3339 date-time (e.g. 2025-03-01T10:00:00Z) or a date\n`);
      return Exit.invalid;
    }
  }
  const loaded = await loadCovenant(folders(flags, io));
  if (!loaded.covenant || hasErrors(loaded.diagnostics)) {
    io.stderr(renderDiagnostics(loaded.diagnostics.filter((d) => d.severity === 'error')));
    io.stderr('error: the rule files are invalid; run `covenant validate` for details\n');
    return Exit.failed;
  }
  const name = file === undefined || file === '-' ? '<stdin>' : file;
  let text: string;
  try {
    text = name === '<stdin>' ? await io.stdin() : await readFile(name, 'utf8');
  } catch (e) {
    io.stderr(`error: cannot read request file \`${name}\`: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}\n`);
    return Exit.invalid;
  }
  const parsed = parseText(name, text);
  if (!parsed.ok) {
    io.stderr(renderDiagnostics(parsed.diagnostics));
    return Exit.invalid;
  }
  let request = parsed.document.value;
  // --at stands in for an absent requestedAt: the request then reads as if it had named that time.
  if (at !== undefined && isRecord(request) && request.requestedAt === undefined) {
    request = { ...request, requestedAt: new Date(at).toISOString() };
  }
  if (isRecord(request) && request.derivedFrom !== undefined) {
    io.stderr(`${name}: error: \`derivedFrom\` names decisions in a service's log, which \`covenant decide\` does not read; ask the service (POST /v1/simulations), or give the origin in a policy test\n`);
    return Exit.invalid;
  }
  const askedBy = { ...(flags.unit !== undefined && { unit: flags.unit }), ...(flags.function !== undefined && { function: flags.function }) };
  const kinds = (flags.approvals ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '');
  const defined = loaded.covenant.approvals;
  const unknown = kinds.filter((k) => !defined.has(k));
  if (unknown.length > 0) {
    io.stderr(`error: --approvals names ${unknown.map((k) => `\`${k}\``).join(', ')}, which the covenant does not define as approval kinds\n`);
    return Exit.invalid;
  }
  const result = decide(loaded.covenant, request, { now: io.now(), decisionId: ulid() }, { askedBy, ...(kinds.length > 0 && { approvals: new Set(kinds) }) });
  if (!result.ok) {
    const kind = result.error.kind === 'malformed' ? 'malformed request' : 'request names what the covenant does not define';
    for (const e of result.error.errors) {
      const pos = parsed.document.locate(e.path.split('/').slice(1));
      io.stderr(`${name}${pos ? `:${pos.line}:${pos.column}` : ''}: error: ${e.message} (at ${e.path || '/'}) [${kind}]\n`);
    }
    return Exit.invalid;
  }
  io.stdout(JSON.stringify(result.value, null, 2) + '\n');
  return Exit.ok;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
