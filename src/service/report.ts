// The privacy-review report: counts over a period of the log, in one streaming pass.
import type { DecisionLog } from '../audit/types.js';

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
  policyVersions: { policyVersion: string; firstSeen: string; lastSeen: string; decisions: number }[];
}

export async function buildReport(log: DecisionLog, range: { from?: number; to?: number }): Promise<Report> {
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
  const tally = <K extends string, T extends Tally>(m: Map<string, T>, key: string, make: () => T, outcome: K & keyof Tally): void => {
    const t = m.get(key) ?? make();
    t[outcome]++;
    m.set(key, t);
  };

  for await (const e of log.entries(range)) {
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
    policyVersions: [...versions.values()].sort((a, b) => a.firstSeen.localeCompare(b.firstSeen)),
  };
}
