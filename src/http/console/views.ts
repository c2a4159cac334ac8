// The console's pages, server-rendered: no script at all, so they work without JavaScript and
// under a policy that allows none. Every value from the log or the rule files goes through hono's
// `html`, which escapes it.
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Caller, LogEntry, Verification } from '../../audit/types.js';
import type { Covenant } from '../../domain/covenant.js';
import type { Decision, Diagnostic, LocalizedText, Obligation, Reason } from '../../domain/types.js';
import { nameBesideId } from '../../domain/text.js';
import { isoTime } from '../../compile/time.js';
import type { DraftReport } from '../../service/posted-files.js';
import type { PolicyDiff } from '../../service/policy-diff.js';
import { conditionText, type Matrix } from '../../engine/matrix.js';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What each role finds in the console; the routes hold the same list. */
export const VIEWS = {
  auditor: [
    ['/console/log', 'Decision log'],
    ['/console/integrity', 'Integrity'],
    ['/console/report', 'Report'],
    ['/console/exports', 'Exports'],
    ['/console/matrix', 'Matrix'],
    ['/console/what-if', 'What if'],
    ['/console/history', 'History'],
  ],
  'privacy-officer': [
    ['/console/covenant', 'Covenant'],
    ['/console/draft', 'Draft check'],
    ['/console/history', 'History'],
    ['/console/matrix', 'Matrix'],
    ['/console/what-if', 'What if'],
    ['/console/report', 'Report'],
    ['/console/exports', 'Exports'],
  ],
  approver: [],
  partner: [],
} as const satisfies Record<Caller['role'], readonly (readonly [string, string])[]>;

export const CONSOLE_CSS = `body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f}
header{background:#12355b;color:#fff;padding:.6em 1.2em;display:flex;gap:1.2em;align-items:center;flex-wrap:wrap}
header a{color:#fff}header form{margin-left:auto}header .muted{color:#dde6f0}main{padding:1em 1.2em;max-width:80em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}th{background:#eef}
.permit{color:#0a6b2e;font-weight:600}.deny{color:#a4161a;font-weight:600}.muted{color:#666}
form.filters{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:end}label{display:flex;flex-direction:column;font-size:.85em}
input,select,textarea{font:inherit}.ok{color:#0a6b2e}.bad{color:#a4161a}pre{white-space:pre-wrap;background:#f6f6f6;padding:.6em}
@media print{header{display:none}}`;

export function layout(title: string, who: { caller: Caller; csrf: string } | undefined, body: Html | string): Html {
  const nav = who ? VIEWS[who.caller.role].map(([href, label]) => html`<a href="${href}">${label}</a>`) : [];
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title} · covenant</title>
<link rel="stylesheet" href="/console/console.css"><link rel="icon" href="data:,"></head>
<body><header><strong><a href="/console">covenant</a></strong>${nav}${
    who
      ? html`<form method="post" action="/console/sign-out"><input type="hidden" name="csrf" value="${who.csrf}"><span class="muted">${who.caller.role} · key ${who.caller.keyId}</span> <button>Sign out</button></form>`
      : ''
  }</header>
<main><h1>${title}</h1>${body}</main></body></html>`;
}

export const signIn = (problem?: string): Html => html`${problem ? html`<p class="bad">${problem}</p>` : ''}
<form method="post" action="/console/sign-in">
<label>API key <input type="password" name="key" autocomplete="off" required size="60"></label>
<p><button>Sign in</button></p></form>
<p class="muted">The key is checked once and not kept: a session cookie (HttpOnly, SameSite=Strict, 8 hours) stands in for it. A revoked key ends its sessions.</p>`;

export const home = (caller: Caller): Html => {
  const views = VIEWS[caller.role];
  if (views.length === 0) return html`<p>The console has no views for the role <code>${caller.role}</code>; use the API (<a href="/docs">/docs</a>).</p>`;
  return html`<ul>${views.map(([href, label]) => html`<li><a href="${href}">${label}</a></li>`)}</ul>`;
};

const obligationText = (o: Obligation): string => (o.type === 'retention' ? `retention ${o.days} days` : o.type === 'notify' ? `notify ${o.role}` : o.type);

const text = (t: LocalizedText): Html => html`<div lang="nl">${t.nl}</div><div lang="en" class="muted">${t.en}</div>`;

function outcome(d: { decision: string }): Html {
  return html`<span class="${d.decision === 'permit' ? 'permit' : 'deny'}">${d.decision}</span>`;
}

export const LOG_FILTERS = ['kind', 'provider', 'recipient', 'purpose', 'category', 'legalBasis', 'rule', 'decision', 'caseReference', 'callerKey', 'from', 'to'] as const;

export function logPage(query: Record<string, string>, items: readonly LogEntry[], next: string | undefined, problem?: string): Html {
  const field = (name: (typeof LOG_FILTERS)[number]): Html => {
    if (name === 'kind') {
      const kinds = ['decision', 'simulation', 'refusal', 'approval', 'policy', 'recovery', 'all'];
      return html`<label>kind <select name="kind">${kinds.map((k) => html`<option${(query.kind ?? 'decision') === k ? html` selected` : ''}>${k}</option>`)}</select></label>`;
    }
    if (name === 'decision') {
      return html`<label>decision <select name="decision"><option value="">any</option>${['permit', 'deny'].map((k) => html`<option${query.decision === k ? html` selected` : ''}>${k}</option>`)}</select></label>`;
    }
    return html`<label>${name} <input name="${name}" value="${query[name] ?? ''}" size="14"></label>`;
  };
  const rows = items.map((e) => {
    const request = 'request' in e && typeof e.request === 'object' && e.request !== null ? (e.request as Record<string, unknown>) : {};
    const decided = 'decision' in e ? e.decision : undefined;
    const what =
      e.kind === 'approval'
        ? `${e.action} ${e.approval.kind} for case ${e.approval.caseReference}`
        : e.kind === 'refusal'
          ? `${e.status} ${e.route}`
          : e.kind === 'policy'
            ? `${e.cause}: ${e.policyVersion}`
            : `${String(request.provider ?? '')} → ${String(request.recipient ?? '')}: ${Array.isArray(request.dataCategories) ? request.dataCategories.join(', ') : ''}`;
    return html`<tr><td>${e.seq}</td><td>${e.at}</td><td>${e.kind}</td><td><a href="/console/log/${e.id}">${what}</a></td><td>${decided ? outcome(decided) : ''}</td><td>${
      decided ? [...new Set(decided.reasons.map((r) => r.code))].join(' ') : ''
    }</td></tr>`;
  });
  const more = next ? html`<p><a href="/console/log?${new URLSearchParams({ ...query, cursor: next }).toString()}">Older entries</a></p>` : '';
  return html`<form class="filters" method="get" action="/console/log">${LOG_FILTERS.map(field)}<button>Filter</button></form>
${problem ? html`<p class="bad">${problem}</p>` : ''}
<table><thead><tr><th>seq</th><th>at</th><th>kind</th><th>what</th><th>decision</th><th>reasons</th></tr></thead><tbody>${rows}</tbody></table>
${items.length === 0 ? html`<p>No entries match.</p>` : ''}${more}`;
}

function reasonRow(r: Reason): Html {
  const where = 'rule' in r && r.rule !== undefined ? html`${r.citation ?? r.rule} <span class="muted">(${r.rule})</span>` : '';
  return html`<tr><td><code>${r.code}</code>${'approvals' in r ? html`<br><span class="muted">needs ${r.approvals.join(', ')}</span>` : ''}</td><td>${'category' in r ? (r.category ?? '') : ''}</td><td>${where}</td><td>${text(r.message)}${
    'explanation' in r && r.explanation ? html`<p>${text(r.explanation)}</p>` : ''
  }</td></tr>`;
}

export function decisionView(d: Decision, covenant: Covenant): Html {
  const cat = (id: string): string => nameBesideId(covenant.categories.get(id)?.name, id);
  return html`<p>Decision: ${outcome(d)} · policy version <code>${d.policyVersion}</code> · evaluated ${d.evaluatedAt}</p>
<table><thead><tr><th>category</th><th>outcome</th><th>rules</th></tr></thead><tbody>${d.categories.map(
    (c) => html`<tr><td>${cat(c.category)}</td><td>${outcome(c)}${c.decision === 'deny' ? html` <code>${c.reason}</code>` : ''}</td><td>${c.rules.join(', ')}</td></tr>`,
  )}</tbody></table>
<h2>Reasons</h2><table><thead><tr><th>code</th><th>category</th><th>article</th><th>explanation (nl / en)</th></tr></thead><tbody>${d.reasons.map(reasonRow)}</tbody></table>
<h2>Obligations</h2>${d.obligations.length === 0 ? html`<p>None.</p>` : html`<ul>${d.obligations.map((o) => html`<li>${obligationText(o)}</li>`)}</ul>`}
${
  d.nearMisses.length === 0
    ? ''
    : html`<h2>Near misses</h2><ul>${d.nearMisses.map((n) => html`<li>${n.citation} for ${cat(n.category)}<ul>${n.misses.map((m) => html`<li>${text(m.message)}</li>`)}</ul></li>`)}</ul>`
}`;
}

export interface ReplayView {
  readonly reproduced: boolean;
  readonly current?: { decision: string } | null;
  readonly changed: boolean;
  readonly currentPolicyVersion: string;
  readonly differences: readonly { category: string }[];
}

export function entryPage(e: LogEntry, covenant: Covenant, replayed: ReplayView | string | undefined): Html {
  const request = 'request' in e ? html`<h2>Request</h2><pre>${JSON.stringify(e.request, null, 2)}</pre>` : '';
  const caller = 'caller' in e ? html`<p>Asked by key <code>${e.caller.keyId}</code> (${e.caller.role}${e.caller.partner ? `, ${e.caller.partner}` : ''}${e.caller.unit ? `, unit ${e.caller.unit}` : ''}${e.caller.function ? `, function ${e.caller.function}` : ''}).</p>` : '';
  const body =
    e.kind === 'decision' || e.kind === 'simulation'
      ? html`${decisionView(e.decision, covenant)}${e.approvals ? html`<p>Relied on approvals: ${e.approvals.map((a) => `${a.kind} (${a.id})`).join(', ')}</p>` : ''}`
      : html`<pre>${JSON.stringify(e, null, 2)}</pre>`;
  const replay =
    replayed === undefined
      ? ''
      : typeof replayed === 'string'
        ? html`<h2>Replay</h2><p class="bad">${replayed}</p>`
        : html`<h2>Replay</h2><p>Then, under its own version and time: ${replayed.reproduced ? html`<span class="ok">reproduced</span>` : html`<span class="bad">not reproduced</span>`}.</p>
<p>Under today's rules (<code>${replayed.currentPolicyVersion}</code>): ${replayed.current ? outcome(replayed.current) : 'not decidable'}${
            replayed.changed ? html` <span class="bad">(changed; categories ${replayed.differences.map((d) => d.category).join(', ')})</span>` : ''
          }.</p>`;
  return html`<p>${e.kind} <code>${e.id}</code>, seq ${e.seq}, at ${e.at}; hash <code>${e.hash}</code></p>${caller}${request}${body}${replay}`;
}

export function integrityPage(v: Verification, checkpoint: string | undefined, at: number): Html {
  return html`<p>Verified at ${isoTime(at)}: ${v.ok ? html`<strong class="ok">intact</strong>` : html`<strong class="bad">not intact</strong>`}, ${v.entries} entries${
    v.pruned ? `, after ${v.pruned.count} pruned by retention` : ''
  }.</p>
${v.head ? html`<p>Head: seq ${v.head.seq}, <code>${v.head.hash}</code></p>` : ''}
${v.firstBad ? html`<p class="bad">First bad entry: ${v.firstBad.seq ?? '?'}: ${v.firstBad.problem}: ${v.firstBad.message}</p>` : ''}
<h2>Latest signed checkpoint</h2>${checkpoint ? html`<pre>${checkpoint}</pre>` : html`<p>None: this log signs no checkpoints.</p>`}
<p class="muted">Witnesses and partners check the log against what they hold with <code>covenant audit verify --witness DIR --receipts FILE</code>.</p>`;
}

export function exportsPage(): Html {
  return html`<form method="get" action="/console/exports/download" class="filters">
<label>from <input name="from" placeholder="2025-01-01T00:00:00Z"></label><label>to <input name="to" placeholder="2025-12-31T23:59:59Z"></label>
<label>format <select name="format"><option>ndjson</option><option>csv</option></select></label><button>Download</button></form>
<form method="get" action="/console/exports/digest" class="filters">
<label>from <input name="from"></label><label>to <input name="to"></label><label>format <select name="format"><option>ndjson</option><option>csv</option></select></label><button>Digest</button></form>
<p class="muted">A digest names the count, the first and last seq, the hashes and the sha256 of the export's bytes; <code>covenant audit verify --export FILE --digest FILE</code> checks one.</p>`;
}

export const WHAT_IF_FIELDS = ['provider', 'recipient', 'dataCategories', 'purpose', 'legalBasis', 'subjectCount', 'caseReference', 'requestedAt'] as const;

export function whatIfPage(covenant: Covenant, values: Record<string, string>, csrf: string, result: Html | string | undefined): Html {
  const options = (vocabulary: ReadonlyMap<string, { name?: unknown }>, selected: string | undefined): Html[] =>
    [...vocabulary.keys()].map((id) => html`<option value="${id}"${selected === id ? html` selected` : ''}>${nameBesideId(vocabulary.get(id)?.name as never, id)}</option>`);
  return html`<form method="post" action="/console/what-if" class="filters">
<input type="hidden" name="csrf" value="${csrf}">
<label>provider <select name="provider">${options(covenant.partners, values.provider)}</select></label>
<label>recipient <select name="recipient">${options(covenant.partners, values.recipient)}</select></label>
<label>data categories (comma-separated ids) <input name="dataCategories" value="${values.dataCategories ?? ''}" size="30"></label>
<label>purpose <select name="purpose">${options(covenant.purposes, values.purpose)}</select></label>
<label>legal basis <select name="legalBasis">${[...covenant.legalBases.values()].map((lb) => html`<option value="${lb.id}"${values.legalBasis === lb.id ? html` selected` : ''}>${lb.id}: ${lb.citation}</option>`)}</select></label>
<label>subjects <input name="subjectCount" value="${values.subjectCount ?? ''}" size="6"></label>
<label>pseudonymised <select name="pseudonymised"><option value="">no</option><option value="true"${values.pseudonymised === 'true' ? html` selected` : ''}>yes</option></select></label>
<label>case reference <input name="caseReference" value="${values.caseReference ?? ''}"></label>
<label>at (ISO 8601; empty: now) <input name="requestedAt" value="${values.requestedAt ?? ''}"></label>
<button>Simulate</button></form>
<p class="muted">A simulation is recorded in the log, as every answer is; it decides as a partner's request would, at the time given.</p>
${result === undefined ? '' : typeof result === 'string' ? html`<p class="bad">${result}</p>` : result}`;
}

export function covenantPage(covenant: Covenant, warnings: readonly Diagnostic[], at: number, coverage: ReadonlyMap<string, readonly string[]>): Html {
  const period = (v: { from?: number; until?: number }): string => `${v.from === undefined ? '…' : isoTime(v.from).slice(0, 10)} – ${v.until === undefined ? '…' : isoTime(v.until).slice(0, 10)}`;
  const inForce = (v: { from?: number; until?: number }): boolean => (v.from === undefined || v.from <= at) && (v.until === undefined || at <= v.until);
  return html`<p>${covenant.info.title} (<code>${covenant.info.id}</code>), ${period(covenant.info.validity)}; policy version <code>${covenant.policyVersion}</code>, ${covenant.rules.length} articles.</p>
<h2>Articles</h2><table><thead><tr><th>article</th><th>effect</th><th>scope</th><th>in force</th><th>explanation</th><th>policy tests that exercise it</th></tr></thead><tbody>${covenant.rules.map(
    (r) => html`<tr><td>${r.citation}<br><span class="muted">${r.id} · ${r.source.file}${r.source.line ? `:${r.source.line}` : ''}</span></td><td class="${r.effect}">${r.effect}</td><td>${[
      r.providers ? `from ${[...r.providers].join(', ')}` : '',
      r.recipients ? `to ${[...r.recipients].join(', ')}` : '',
      r.categories ? `categories ${r.categories.join(', ')}` : '',
      r.purposes ? `for ${r.purposes.join(', ')}` : '',
      r.legalBases ? `on ${[...r.legalBases].join(', ')}` : '',
      r.requires ? `after approval ${r.requires.join(', ')}` : '',
      r.when ? 'with conditions' : '',
    ]
      .filter((x) => x !== '')
      .join('; ')}</td><td>${period(r.validity)}${inForce(r.validity) ? '' : html` <span class="bad">(not now)</span>`}</td><td>${r.explanation ? text(r.explanation) : ''}</td><td>${
      (coverage.get(r.id) ?? []).length === 0 ? html`<span class="bad">none</span>` : html`<ul>${(coverage.get(r.id) ?? []).map((t) => html`<li>${t}</li>`)}</ul>`
    }</td></tr>`,
  )}</tbody></table>
<h2>Legal bases</h2><table><thead><tr><th>id</th><th>citation</th><th>providers</th><th>in force</th></tr></thead><tbody>${[...covenant.legalBases.values()].map(
    (lb) => html`<tr><td>${lb.id}</td><td>${lb.citation}${lb.requires ? html`<br><span class="muted">after approval ${lb.requires.join(', ')}</span>` : ''}</td><td>${[...lb.providers].join(', ')}</td><td>${period(lb.validity)}</td></tr>`,
  )}</tbody></table>
<h2>Warnings from validate</h2>${warnings.length === 0 ? html`<p>None.</p>` : html`<ul>${warnings.map((w) => html`<li><code>${w.code}</code> ${w.message}${w.line ? html` <span class="muted">(line ${w.line})</span>` : ''}</li>`)}</ul>`}`;
}

export function draftPage(names: readonly string[], values: Record<string, string>, csrf: string, report: DraftReport | string | undefined): Html {
  const result =
    report === undefined
      ? ''
      : typeof report === 'string'
        ? html`<p class="bad">${report}</p>`
        : html`<h2>Validation</h2><p>${report.validation.valid ? html`<span class="ok">valid</span>` : html`<span class="bad">invalid</span>`}: ${report.validation.errors} errors, ${report.validation.warnings} warnings${
            report.validation.policyVersion ? html`; it would be <code>${report.validation.policyVersion}</code>` : ''
          }.</p>
${report.validation.diagnostics.length === 0 ? '' : html`<ul>${report.validation.diagnostics.map((d) => html`<li class="${d.severity === 'error' ? 'bad' : ''}"><code>${d.file ?? ''}${d.line ? `:${d.line}` : ''}${d.column ? `:${d.column}` : ''}</code> ${d.severity}: ${d.message} <span class="muted">[${d.code}]</span></li>`)}</ul>`}
${
  report.tests
    ? html`<h2>Policy tests</h2><p>${report.tests.passed} passed, ${report.tests.failed} failed.</p>
${report.tests.diagnostics.map((d) => html`<p class="bad"><code>${d.file ?? ''}${d.line ? `:${d.line}` : ''}</code> ${d.message}</p>`)}
<table><thead><tr><th>test</th><th>expected</th><th>got</th></tr></thead><tbody>${report.tests.results.map(
        (r) => html`<tr><td>${r.passed ? html`<span class="ok">ok</span>` : html`<span class="bad">FAIL</span>`} ${r.name} <span class="muted">${r.file}${r.line ? `:${r.line}` : ''}</span></td><td>${r.expect}</td><td>${r.got}</td></tr>`,
      )}</tbody></table>`
    : ''
}
${
  report.impact
    ? html`<h2>Impact on the logged decisions</h2><p>${report.impact.evaluated} evaluated; ${report.impact.flips.length} would be decided otherwise.</p>
${report.impact.byRule.length === 0 ? '' : html`<table><thead><tr><th>rule</th><th>flips</th><th>to permit</th><th>to deny</th></tr></thead><tbody>${report.impact.byRule.map((r) => html`<tr><td>${r.rule}</td><td>${r.flips}</td><td>${r.toPermit}</td><td>${r.toDeny}</td></tr>`)}</tbody></table>`}`
    : ''
}`;
  return html`<form method="post" action="/console/draft">
<input type="hidden" name="csrf" value="${csrf}">
<p><label>File to replace <select name="file"><option value="">a new file, named below</option>${names.map((n) => html`<option${values.file === n ? html` selected` : ''}>${n}</option>`)}</select></label></p>
<p><label>New file's name (under policies/ or rules/) <input name="name" value="${values.name ?? ''}" size="40" placeholder="rules/new-article.yaml"></label></p>
<p><label>Its content (YAML or JSON) <textarea name="content" rows="18" cols="100" required>${values.content ?? ''}</textarea></label></p>
<p><button>Check the draft</button></p></form>
<p class="muted">Nothing goes live from here: the draft is the serving version with this one file replaced or added, checked as <code>covenant validate</code>, <code>covenant test</code> and <code>covenant impact</code> would.</p>
${result}`;
}

export function historyPage(versions: readonly { policyVersion: string; firstLoadedAt: string; files: readonly string[] }[], serving: string, diff: { a: string; b: string; diff: PolicyDiff } | string | undefined): Html {
  const options = (selected: string | undefined): Html[] => versions.map((v) => html`<option value="${v.policyVersion}"${selected === v.policyVersion ? html` selected` : ''}>${v.firstLoadedAt} ${v.policyVersion.slice(7, 19)}</option>`);
  const list = (title: string, c: PolicyDiff['rules']): Html =>
    html`<h3>${title}</h3><ul>${c.added.map((id) => html`<li class="ok">added ${id}</li>`)}${c.removed.map((id) => html`<li class="bad">removed ${id}</li>`)}${c.changed.map((x) => html`<li>changed ${x.id}: ${x.fields.join(', ')}</li>`)}</ul>${
      c.added.length + c.removed.length + c.changed.length === 0 ? html`<p>No change.</p>` : ''
    }`;
  const shown =
    diff === undefined ? '' : typeof diff === 'string' ? html`<p class="bad">${diff}</p>` : html`<h2>From ${diff.a.slice(0, 19)}… to ${diff.b.slice(0, 19)}…</h2>${list('Articles', diff.diff.rules)}${list('Legal bases', diff.diff.legalBases)}`;
  const latest = versions[versions.length - 1]?.policyVersion;
  const before = versions[versions.length - 2]?.policyVersion;
  return html`<table><thead><tr><th>went live</th><th>policy version</th><th>files</th></tr></thead><tbody>${[...versions].reverse().map(
    (v) => html`<tr><td>${v.firstLoadedAt}</td><td><code>${v.policyVersion}</code>${v.policyVersion === serving ? html` <strong>(serving)</strong>` : ''}</td><td>${v.files.length}</td></tr>`,
  )}</tbody></table>
<form method="get" action="/console/history" class="filters"><label>from <select name="a">${options(diff && typeof diff !== 'string' ? diff.a : before)}</select></label><label>to <select name="b">${options(diff && typeof diff !== 'string' ? diff.b : latest)}</select></label><button>Compare</button></form>
${shown}`;
}

export const MATRIX_FILTERS = ['at', 'provider', 'recipient', 'category', 'legalBasis'] as const;

export function matrixPage(m: Matrix, query: Record<string, string>): Html {
  return html`<form class="filters" method="get" action="/console/matrix">${MATRIX_FILTERS.map(
    (f) => html`<label>${f === 'at' ? 'at (date)' : f} <input name="${f}" value="${query[f] ?? ''}" size="14"></label>`,
  )}<button>Filter</button></form>
<p>At ${m.at}; policy version <code>${m.policyVersion}</code>; ${m.rows.length} permitted exchanges shown. A conditional row permits only when its conditions hold.</p>
<table><thead><tr><th>provider</th><th>recipient</th><th>category</th><th>ways: basis, purposes, obligations</th><th>conditions</th></tr></thead><tbody>${m.rows.map(
    (r) => html`<tr><td>${nameBesideId(r.names.provider, r.provider)}</td><td>${nameBesideId(r.names.recipient, r.recipient)}</td><td>${nameBesideId(r.names.category, r.category)}${
      r.conditional ? html`<br><span class="muted">conditional</span>` : ''
    }</td><td><ul>${r.ways.map(
      (w) => html`<li>${w.legalBasis} for ${w.purposes.join(', ')}${w.approvals.length > 0 ? ` after approval ${w.approvals.join(', ')}` : ''}: ${w.obligations.length === 0 ? 'no obligations' : w.obligations.map(obligationText).join(', ')} <span class="muted">(${w.rules.join(', ')})</span></li>`,
    )}</ul></td><td>${r.conditions.length === 0 ? '' : html`<ul>${r.conditions.map((x) => html`<li>${conditionText(x)}</li>`)}</ul>`}</td></tr>`,
  )}</tbody></table>
<p class="muted">The same as a file: <code>covenant matrix --format csv|md|html|json</code> or <code>GET /v1/policy/matrix</code>.</p>`;
}
