// The privacy-review report as one self-contained HTML page: inline SVG charts, no external
// assets, so it can be attached to the half-yearly report as it is.
import type { Report } from './report.js';

const h = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A horizontal stacked bar chart of permit (green) and deny (red) per label. */
function bars(title: string, id: string, rows: { label: string; permit: number; deny: number }[]): string {
  const top = rows.slice(0, 15);
  const max = Math.max(1, ...top.map((r) => r.permit + r.deny));
  const rowH = 22;
  const labelW = 260;
  const width = 760;
  const scale = (n: number): number => (n / max) * (width - labelW - 60);
  const body = top
    .map((r, i) => {
      const y = i * rowH;
      const p = scale(r.permit);
      const d = scale(r.deny);
      return `<g data-label="${h(r.label)}" data-permit="${r.permit}" data-deny="${r.deny}">
<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${h(r.label)}</text>
<rect x="${labelW}" y="${y + 3}" width="${p.toFixed(1)}" height="${rowH - 6}" fill="#2e7d32"><title>permit ${r.permit}</title></rect>
<rect x="${(labelW + p).toFixed(1)}" y="${y + 3}" width="${d.toFixed(1)}" height="${rowH - 6}" fill="#c62828"><title>deny ${r.deny}</title></rect>
<text x="${(labelW + p + d + 6).toFixed(1)}" y="${y + 15}">${r.permit} / ${r.deny}</text></g>`;
    })
    .join('\n');
  const more = rows.length > top.length ? `<p class="note">${rows.length - top.length} more not shown; see the JSON report.</p>` : '';
  return `<section><h2>${h(title)}</h2><svg id="${id}" role="img" aria-label="${h(title)}" width="${width}" height="${Math.max(1, top.length) * rowH}" xmlns="http://www.w3.org/2000/svg" font-size="12">${body}</svg>${more}</section>`;
}

function table(title: string, head: string[], rows: (string | number)[][]): string {
  return `<section><h2>${h(title)}</h2><table><thead><tr>${head.map((x) => `<th>${h(x)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((x) => `<td>${h(String(x))}</td>`).join('')}</tr>`)
    .join('')}</tbody></table></section>`;
}

export function renderReportHtml(r: Report, generatedAt: string): string {
  const period = `${r.from ?? 'the beginning of the log'} – ${r.to ?? generatedAt}`;
  const total = r.decisions.permit + r.decisions.deny;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Privacy review: ${h(period)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222;max-width:60em}
h1{font-size:1.5em}h2{font-size:1.1em;margin-top:2em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f0f0f0}
.figures{display:flex;gap:2em}.figures div{border:1px solid #ddd;padding:.5em 1em}.figures b{display:block;font-size:1.6em}
.note{color:#666}
</style></head>
<body>
<h1>Privacy review of data exchanges</h1>
<p>Period: ${h(period)}. Generated ${h(generatedAt)} from the decision log by <code>covenant audit report</code>.</p>
<div class="figures">
<div>decisions<b id="total">${total}</b></div>
<div>permitted<b id="permit">${r.decisions.permit}</b></div>
<div>denied<b id="deny">${r.decisions.deny}</b></div>
<div>refusals<b id="refusals">${r.refusals}</b></div>
<div>simulations<b id="simulations">${r.simulations}</b></div>
</div>
${bars('Decisions by partner pair (provider → recipient)', 'by-pair', r.byPair.map((p) => ({ label: `${p.provider} → ${p.recipient}`, permit: p.permit, deny: p.deny })))}
${bars('Decisions by purpose', 'by-purpose', r.byPurpose.map((p) => ({ label: p.purpose, permit: p.permit, deny: p.deny })))}
${bars('Categories requested', 'by-category', r.byCategory.map((p) => ({ label: p.category, permit: p.permit, deny: p.deny })))}
${bars('Decisions by legal basis', 'by-legal-basis', r.byLegalBasis.map((p) => ({ label: p.legalBasis, permit: p.permit, deny: p.deny })))}
${table('Most frequent reasons for denial', ['reason', 'denied decisions'], r.denialReasons.map((x) => [x.code, x.count]))}
${table('Obligations issued', ['obligation', 'decisions'], r.obligations.map((x) => [x.obligation, x.count]))}
${table('Refusals by caller', ['key', 'role', 'partner', 'refusals', 'by status'], r.refusalsByCaller.map((x) => [x.keyId, x.role, x.partner ?? '', x.count, Object.entries(x.statuses).map(([k, v]) => `${k}: ${v}`).join(', ')]))}
${table('Policy versions in force', ['policy version', 'first decision', 'last decision', 'decisions'], r.policyVersions.map((x) => [x.policyVersion, x.firstSeen, x.lastSeen, x.decisions]))}
</body></html>
`;
}
