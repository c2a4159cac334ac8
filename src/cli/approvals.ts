// `covenant approvals grant|list|revoke --url URL`: the register of prior approvals, through the
// service that keeps it (an approval counts only once its grant is in the service's log, which
// the running service holds). The key comes from a file or the environment, never the command
// line, where other users of the machine could read it. Exit 0 done, 1 refused by the service or
// unreachable, 2 bad arguments.
import { Exit, type ExitCode, type Io } from './io.js';
import { apiKeyOf } from './options.js';

export interface ApprovalsFlags {
  url?: string;
  apiKeyFile?: string;
  kind?: string;
  case?: string;
  from?: string;
  until?: string;
  note?: string;
  format?: string;
}

type Call = { ok: true; status: number; body: unknown } | { ok: false; message: string };

async function call(flags: ApprovalsFlags, io: Io, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Call | ExitCode> {
  if (!flags.url) {
    io.stderr('error: --url is required: the service that keeps the register, e.g. https://covenant.example\n');
    return Exit.invalid;
  }
  const key = await apiKeyOf(flags, io);
  if (!key) {
    io.stderr('error: an API key of the service is needed (role approver to grant or revoke): --api-key-file FILE or env COVENANT_API_KEY\n');
    return Exit.invalid;
  }
  try {
    const res = await fetch(new URL(path, flags.url), {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: shown as it came
    }
    return { ok: true, status: res.status, body: parsed };
  } catch (e) {
    return { ok: false, message: `the service at ${flags.url} could not be reached: ${(e as Error).message}` };
  }
}

/** The service's answer: the body on success, else its problem's title and errors on stderr. */
function answered(io: Io, c: Call, expected: number): unknown {
  if (!c.ok) {
    io.stderr(`error: ${c.message}\n`);
    return undefined;
  }
  if (c.status === expected) return c.body;
  const p = c.body as { title?: string; errors?: { path: string; message: string }[] };
  io.stderr(`error: ${c.status} ${p.title ?? ''}\n`);
  for (const e of p.errors ?? []) io.stderr(`  ${e.path || '/'}: ${e.message}\n`);
  return undefined;
}

export async function approvalsGrant(flags: ApprovalsFlags, io: Io): Promise<ExitCode> {
  const missing = (['kind', 'case', 'until'] as const).filter((k) => !flags[k]);
  if (missing.length > 0) {
    io.stderr(`error: ${missing.map((m) => `--${m}`).join(', ')} required\n`);
    return Exit.invalid;
  }
  const body = {
    kind: flags.kind,
    caseReference: flags.case,
    validUntil: flags.until,
    ...(flags.from !== undefined && { validFrom: flags.from }),
    ...(flags.note !== undefined && { note: flags.note }),
  };
  const c = await call(flags, io, 'POST', '/v1/approvals', body);
  if (typeof c === 'number') return c;
  const granted = answered(io, c, 201) as { id: string } | undefined;
  if (!granted) return Exit.failed;
  io.stdout(`${JSON.stringify(granted, null, 2)}\n`);
  return Exit.ok;
}

export async function approvalsRevoke(id: string, flags: ApprovalsFlags, io: Io): Promise<ExitCode> {
  const c = await call(flags, io, 'POST', `/v1/approvals/${encodeURIComponent(id)}/revoke`);
  if (typeof c === 'number') return c;
  const revoked = answered(io, c, 200);
  if (!revoked) return Exit.failed;
  io.stdout(`${JSON.stringify(revoked, null, 2)}\n`);
  return Exit.ok;
}

export async function approvalsList(flags: ApprovalsFlags, io: Io): Promise<ExitCode> {
  const query = new URLSearchParams({ ...(flags.case !== undefined && { caseReference: flags.case }), ...(flags.kind !== undefined && { kind: flags.kind }) });
  const c = await call(flags, io, 'GET', `/v1/approvals${query.size > 0 ? `?${query}` : ''}`);
  if (typeof c === 'number') return c;
  const list = answered(io, c, 200) as { items: { id: string; kind: string; caseReference: string; validFrom: string; validUntil: string; revokedAt?: string }[] } | undefined;
  if (!list) return Exit.failed;
  if (flags.format === 'json') {
    io.stdout(`${JSON.stringify(list.items, null, 2)}\n`);
    return Exit.ok;
  }
  if (list.items.length === 0) io.stdout('no approvals registered\n');
  for (const a of list.items) {
    io.stdout(`${a.id}  ${a.kind}  case ${a.caseReference}  ${a.validFrom} .. ${a.validUntil}${a.revokedAt ? `  revoked ${a.revokedAt}` : ''}\n`);
  }
  return Exit.ok;
}
