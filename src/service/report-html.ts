// The privacy-review report as one self-contained HTML page: inline SVG charts, no external
// assets, so it can be attached to the half-yearly report as it is.
import type { Name } from '../domain/types.js';
import type { Report } from './report.js';
import { nameBesideId } from '../domain/text.js';

const h = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A horizontal stacked bar chart of permit (green) and deny (red) per label. */
function bars(title: string, id: string, rows: { label: string; permit: number; deny: number }[]): string {
  const top = rows.slice(0, 15);
  const max = Math.max(1, ...top.map((r) => r.permit + r.deny));
  const rowH = 22;
  // Labels carry names beside ids: room for the longest (about 6.5 px a character at 12 px), up
  // to a bound; a longer one is cut, and its whole text is its tooltip.
  const MAX_CHARS = 64;
  const cut = (label: string): string => (label.length <= MAX_CHARS ? label : `${label.slice(0, MAX_CHARS - 1)}…`);
  const labelW = Math.max(160, Math.min(MAX_CHARS, Math.max(0, ...top.map((r) => r.label.length))) * 6.5 + 12);
  const width = labelW + 500;
  const scale = (n: number): number => (n / max) * (width - labelW - 60);
  const body = top
    .map((r, i) => {
      const y = i * rowH;
      const p = scale(r.permit);
      const d = scale(r.deny);
      return `<g data-label="${h(r.label)}" data-permit="${r.permit}" data-deny="${r.deny}">
<text x="${labelW - 6}" y="${y + 15}" text-anchor="end"><title>${h(r.label)}</title>${h(cut(r.label))}</text>
<rect x="${labelW}" y="${y + 3}" width="${p.toFixed(1)}" height="${rowH - 6}" fill="#2e7d32"><title>permit ${r.permit}</title></rect>
<rect x="${(labelW + p).toFixed(1)}" y="${y + 3}" width="${d.toFixed(1)}" height="${rowH - 6}" fill="#c62828"><title>deny ${r.deny}</title></rect>
<text x="${(labelW + p + d + 6).toFixed(1)}" y="${y + 15}">${r.permit} / ${r.deny}</text></g>`;
    })
    .join('\n');
  const more = rows.length > top.length ? `<p class="note">${rows.length - top.length} more not shown; see the JSON report.</p>` : '';
  return `<section><h2>${h(title)}</h2><svg id="${id}" role="img" aria-label="${h(title)}" width="${width}" height="${Math.max(1, top.length) * rowH}" xmlns="http://www.w3.org/2000/svg" font-size="12">${body}</svg>${more}</section>`;
}

function table(title: string, head: string[], rows: (string | number)[][]): string {
  if (rows.length === 0) return `<section><h2>${h(title)}</h2><p class="note">Geen in deze periode / None in this period.</p></section>`;
  return `<section><h2>${h(title)}</h2><table><thead><tr>${head.map((x) => `<th>${h(x)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((x) => `<td>${h(String(x))}</td>`).join('')}</tr>`)
    .join('')}</tbody></table></section>`;
}

/** An id with its name from the report's vocabulary beside it. */
const named = (names: Readonly<Record<string, Name>> | undefined, id: string): string => nameBesideId(names?.[id], id);

/** Decisions per week or month as vertical stacked bars, oldest on the left. */
function trend(r: Report): string {
  const points = r.trend.points;
  if (points.length === 0) return '';
  const max = Math.max(1, ...points.map((p) => p.permit + p.deny));
  const barW = Math.max(6, Math.min(40, Math.floor(700 / points.length) - 4));
  const height = 160;
  const y = (n: number): number => (n / max) * height;
  const body = points
    .map((p, i) => {
      const x = 40 + i * (barW + 4);
      const hp = y(p.permit);
      const hd = y(p.deny);
      return `<g data-start="${h(p.start)}" data-permit="${p.permit}" data-deny="${p.deny}"><title>${h(p.start.slice(0, 10))}: permit ${p.permit}, deny ${p.deny}</title>
<rect x="${x}" y="${(height - hp).toFixed(1)}" width="${barW}" height="${hp.toFixed(1)}" fill="#2e7d32"/>
<rect x="${x}" y="${(height - hp - hd).toFixed(1)}" width="${barW}" height="${hd.toFixed(1)}" fill="#c62828"/></g>`;
    })
    .join('\n');
  const unit = r.trend.unit === 'week' ? ['week', 'Per week (from Monday, UTC)'] : ['maand', 'Per month (UTC)'];
  const first = points[0]?.start.slice(0, 10) ?? '';
  const last = points[points.length - 1]?.start.slice(0, 10) ?? '';
  return `<section><h2>Verloop per ${unit[0]} / ${h(unit[1] as string)}</h2><svg id="trend" role="img" aria-label="decisions per ${r.trend.unit}" width="${Math.max(200, 40 + points.length * (barW + 4) + 40)}" height="${height + 20}" xmlns="http://www.w3.org/2000/svg" font-size="11">
<text x="0" y="10">${max}</text><text x="0" y="${height}">0</text>${body}
<text x="40" y="${height + 15}">${h(first)}</text>${points.length > 1 ? `<text x="${40 + points.length * (barW + 4)}" y="${height + 15}" text-anchor="end">${h(last)}</text>` : ''}</svg></section>`;
}

export function renderReportHtml(r: Report, generatedAt: string): string {
  const period = `${r.from ?? 'the beginning of the log'} – ${r.to ?? generatedAt}`;
  const total = r.decisions.permit + r.decisions.deny;
  const n = r.names;
  const i = r.integrity;
  const integrity = i.ok
    ? `<p id="integrity" class="ok">Het log is gecontroleerd en ongeschonden / The log was verified intact at ${h(i.verifiedAt)}: ${i.entries} entries${i.head ? `, up to entry ${i.head.seq}, last hash <code>${h(i.head.hash)}</code>` : ''}. The figures below are drawn from it.</p>`
    : `<p id="integrity" class="bad">Het log is NIET ongeschonden / The log did NOT verify at ${h(i.verifiedAt)}: ${h(i.firstBad ?? 'see covenant audit verify')}. The figures below may rest on altered entries.</p>`;
  const empty = total + r.refusals + r.simulations === 0;
  return `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Privacyrapportage / Privacy review: ${h(period)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222;max-width:60em}
h1{font-size:1.5em}h2{font-size:1.1em;margin-top:2em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f0f0f0}
.figures{display:flex;gap:2em}.figures div{border:1px solid #ddd;padding:.5em 1em}.figures b{display:block;font-size:1.6em}
.note{color:#666}.ok{border-left:4px solid #2e7d32;padding-left:.6em}.bad{border-left:4px solid #c62828;padding-left:.6em;font-weight:bold}
.legend span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;vertical-align:middle}
@media print{body{margin:0;max-width:none;font-size:11pt}section{break-inside:avoid}h2{break-after:avoid}.figures div{border-color:#999}a{color:inherit;text-decoration:none}}
@page{size:A4;margin:15mm}
</style></head>
<body>
<h1>Privacyrapportage gegevensuitwisseling / Privacy review of data exchanges</h1>
<p>Periode / Period: ${h(period)}. Generated ${h(generatedAt)} from the decision log by <code>covenant audit report</code>.</p>
${integrity}
${empty ? '<p id="empty" class="note">In deze periode is niets vastgelegd: geen besluiten, weigeringen of simulaties. / Nothing was recorded in this period: no decisions, refusals or simulations.</p>' : ''}
<div class="figures">
<div>besluiten / decisions<b id="total">${total}</b></div>
<div>toegestaan / permitted<b id="permit">${r.decisions.permit}</b></div>
<div>geweigerd / denied<b id="deny">${r.decisions.deny}</b></div>
<div>weigeringen / refusals<b id="refusals">${r.refusals}</b></div>
<div>simulaties / simulations<b id="simulations">${r.simulations}</b></div>
</div>
<p class="legend" id="legend">Legenda / Legend:<span style="background:#2e7d32"></span>toegestaan / permit<span style="background:#c62828"></span>geweigerd / deny. A request counts once under its decision; a category counts under its own outcome. Refusals are requests not decided at all (malformed, unknown ids, not a party).</p>
${trend(r)}
${bars('Besluiten per partnerpaar / Decisions by partner pair (provider → recipient)', 'by-pair', r.byPair.map((p) => ({ label: `${named(n?.partners, p.provider)} → ${named(n?.partners, p.recipient)}`, permit: p.permit, deny: p.deny })))}
${bars('Besluiten per doel / Decisions by purpose', 'by-purpose', r.byPurpose.map((p) => ({ label: named(n?.purposes, p.purpose), permit: p.permit, deny: p.deny })))}
${bars('Gevraagde categorieën / Categories requested', 'by-category', r.byCategory.map((p) => ({ label: named(n?.categories, p.category), permit: p.permit, deny: p.deny })))}
${bars('Besluiten per grondslag / Decisions by legal basis', 'by-legal-basis', r.byLegalBasis.map((p) => ({ label: p.legalBasis, permit: p.permit, deny: p.deny })))}
${table('Weigeringen per artikel / Denials by article', ['artikel / article', 'rule', 'geweigerde besluiten / denied decisions'], r.denialsByRule.map((x) => [x.citation, x.rule, x.count]))}
${table('Redenen van weigering / Reasons for denial', ['reason', 'geweigerde besluiten / denied decisions'], r.denialReasons.map((x) => [x.code, x.count]))}
${table('Opgelegde verplichtingen / Obligations issued', ['obligation', 'besluiten / decisions'], r.obligations.map((x) => [x.obligation, x.count]))}
${table('Weigeringen per sleutel / Refusals by caller', ['key', 'role', 'partner', 'refusals', 'by status'], r.refusalsByCaller.map((x) => [x.keyId, x.role, x.partner ? named(n?.partners, x.partner) : '', x.count, Object.entries(x.statuses).map(([k, v]) => `${k}: ${v}`).join(', ')]))}
${table('Beleidsversies / Policy versions in force', ['policy version', 'in werking / went live', 'first decision', 'last decision', 'decisions'], r.policyVersions.map((x) => [x.policyVersion, x.wentLive ?? 'before the period', x.firstSeen, x.lastSeen, x.decisions]))}
</body></html>
`;
}
