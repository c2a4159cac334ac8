// The privacy-review report: counts over a period of the log, in one streaming pass, and the
// log's verification, so that the figures come with a statement of the record they are drawn from.
import type { DecisionLog } from '../audit/types.js';
import type { Id, Name } from '../domain/types.js';

/** The covenant's names for the ids a report shows, when a covenant is at hand. */
export interface ReportNames {
  readonly partners: Readonly<Record<Id, Name>>;
  readonly categories: Readonly<Record<Id, Name>>;
  readonly purposes: Readonly<Record<Id, Name>>;
}

export function namesOf(c: { partners: ReadonlyMap<Id, { name: Name }>; categories: ReadonlyMap<Id, { name: Name }>; purposes: ReadonlyMap<Id, { name: Name }> }): ReportNames {
  const of = (m: ReadonlyMap<Id, { name: Name }>): Record<Id, Name> => Object.fromEntries([...m].map(([id, v]) => [id, v.name]));
  return { partners: of(c.partners), categories: of(c.categories), purposes: of(c.purposes) };
}

interface Tally {
  permit: number;
  deny: number;
}

export interface Report {
  from: string | null;
  to: string | null;
  decisions: Tally;
  refusals: number;
  simulations: number;
  byPair: ({ provider: string; recipient: string } & Tally)[];
  byPurpose: ({ purpose: string } & Tally)[];
  byCategory: ({ category: string } & Tally)[];
  byLegalBasis: ({ legalBasis: string } & Tally)[];
  denialReasons: { code: string; count: number }[];
  obligations: { obligation: string; count: number }[];
  refusalsByCaller: { keyId: string; role: string; partner?: string; count: number; statuses: Record<string, number> }[];
  policyVersions: { policyVersion: string; firstSeen: string; lastSeen: string; decisions: number; wentLive?: string }[];
  /** decisions per week (a period of up to 26 weeks) or per month, each point from its start (UTC) */
  trend: { unit: 'week' | 'month'; points: ({ start: string } & Tally)[] };
  /** denials by the article (deny rule) that gave them */
  denialsByRule: { rule: string; citation: string; count: number }[];
  /** the log the figures are drawn from, verified as the report was made */
  integrity: { verifiedAt: string; ok: boolean; entries: number; head?: { seq: number; hash: string }; firstBad?: string };
  names?: ReportNames;
}

const WEEK = 7 * 86_400_000;

/** The start (UTC) of the week (from Monday) or month that holds `t`. */
function bucketStart(t: number, unit: 'week' | 'month'): number {
  const d = new Date(t);
  if (unit === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return day - ((d.getUTCDay() + 6) % 7) * 86_400_000;
}

export async function buildReport(log: DecisionLog, range: { from?: number; to?: number }, options: { names?: ReportNames; now?: number } = {}): Promise<Report> {
  const decisions: Tally = { permit: 0, deny: 0 };
  let refusals = 0;
  let simulations = 0;
  const pairs = new Map<string, { provider: string; recipient: string } & Tally>();
  const purposes = new Map<string, { purpose: string } & Tally>();
  const categories = new Map<string, { category: string } & Tally>();
  const bases = new Map<string, { legalBasis: string } & Tally>();
  const reasons = new Map<string, number>();
  const obligations = new Map<string, number>();
  const callers = new Map<string, Report['refusalsByCaller'][number]>();
  const versions = new Map<string, Report['policyVersions'][number]>();
  const wentLive = new Map<string, string>();
  const byRule = new Map<string, Report['denialsByRule'][number]>();
  const buckets = new Map<number, Tally>();
  let first: number | undefined;
  let last: number | undefined;
  const tally = <K extends string, T extends Tally>(m: Map<string, T>, key: string, make: () => T, outcome: K & keyof Tally): void => {
    const t = m.get(key) ?? make();
    t[outcome]++;
    m.set(key, t);
  };

  for await (const e of log.entries(range)) {
    if (e.kind === 'policy' && !wentLive.has(e.policyVersion)) wentLive.set(e.policyVersion, e.at);
    if (e.kind === 'simulation') simulations++;
    if (e.kind === 'refusal') {
      refusals++;
      const c = callers.get(e.caller.keyId) ?? { keyId: e.caller.keyId, role: e.caller.role, ...(e.caller.partner && { partner: e.caller.partner }), count: 0, statuses: {} };
      c.count++;
      c.statuses[String(e.status)] = (c.statuses[String(e.status)] ?? 0) + 1;
      callers.set(e.caller.keyId, c);
    }
    if (e.kind !== 'decision') continue;
    const d = e.decision;
    const r = e.request;
    decisions[d.decision]++;
    const at = Date.parse(e.at);
    first ??= at;
    last = at;
    // weekly buckets first; turned into months at the end when the period is long
    const b = buckets.get(bucketStart(at, 'week')) ?? { permit: 0, deny: 0 };
    b[d.decision]++;
    buckets.set(bucketStart(at, 'week'), b);
    for (const reason of d.reasons) {
      if (reason.code !== 'denied-by-rule' || !('rule' in reason)) continue;
      const x = byRule.get(reason.rule) ?? { rule: reason.rule, citation: reason.citation, count: 0 };
      x.count++;
      byRule.set(reason.rule, x);
    }
    tally(pairs, `${r.provider}\u0000${r.recipient}`, () => ({ provider: r.provider, recipient: r.recipient, permit: 0, deny: 0 }), d.decision);
    tally(purposes, r.purpose, () => ({ purpose: r.purpose, permit: 0, deny: 0 }), d.decision);
    tally(bases, r.legalBasis, () => ({ legalBasis: r.legalBasis, permit: 0, deny: 0 }), d.decision);
    for (const c of d.categories) tally(categories, c.category, () => ({ category: c.category, permit: 0, deny: 0 }), c.decision);
    if (d.decision === 'deny') for (const c of new Set(d.reasons.map((x) => x.code).filter((x) => x !== 'permitted-by-rule'))) reasons.set(c, (reasons.get(c) ?? 0) + 1);
    for (const o of d.obligations) {
      const key = o.type === 'retention' ? `retention ${o.days} days` : o.type === 'notify' ? `notify ${o.role}` : o.type;
      obligations.set(key, (obligations.get(key) ?? 0) + 1);
    }
    const v = versions.get(e.policyVersion) ?? { policyVersion: e.policyVersion, firstSeen: e.at, lastSeen: e.at, decisions: 0 };
    v.lastSeen = e.at;
    v.decisions++;
    versions.set(e.policyVersion, v);
  }
  const unit: 'week' | 'month' = first !== undefined && last !== undefined && last - first > 26 * WEEK ? 'month' : 'week';
  const points = new Map<number, Tally>();
  for (const [start, t] of buckets) {
    const key = unit === 'week' ? start : bucketStart(start, 'month');
    const p = points.get(key) ?? { permit: 0, deny: 0 };
    p.permit += t.permit;
    p.deny += t.deny;
    points.set(key, p);
  }
  const v = await log.verify();
  const byTotal = <T extends Tally>(m: Map<string, T>): T[] => [...m.values()].sort((a, b) => b.permit + b.deny - (a.permit + a.deny));
  return {
    from: range.from === undefined ? null : new Date(range.from).toISOString(),
    to: range.to === undefined ? null : new Date(range.to).toISOString(),
    decisions,
    refusals,
    simulations,
    byPair: byTotal(pairs),
    byPurpose: byTotal(purposes),
    byCategory: byTotal(categories),
    byLegalBasis: byTotal(bases),
    denialReasons: [...reasons].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count),
    obligations: [...obligations].map(([obligation, count]) => ({ obligation, count })).sort((a, b) => b.count - a.count),
    refusalsByCaller: [...callers.values()].sort((a, b) => b.count - a.count),
    policyVersions: [...versions.values()].map((x) => ({ ...x, ...(wentLive.has(x.policyVersion) && { wentLive: wentLive.get(x.policyVersion) }) })).sort((a, b) => a.firstSeen.localeCompare(b.firstSeen)),
    trend: { unit, points: [...points].sort((a, b) => a[0] - b[0]).map(([start, t]) => ({ start: new Date(start).toISOString(), ...t })) },
    denialsByRule: [...byRule.values()].sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule)),
    integrity: {
      verifiedAt: new Date(options.now ?? Date.now()).toISOString(),
      ok: v.ok,
      entries: v.entries,
      ...(v.head && { head: { seq: v.head.seq, hash: v.head.hash } }),
      ...(v.firstBad && { firstBad: v.firstBad.message }),
    },
    ...(options.names && { names: options.names }),
  };
}
