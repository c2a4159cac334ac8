// A naive, independent reading of CONTRACT 2.2 over the raw rule files: no index, no compiled
// structures, every rule checked for every category. The engine must agree with it.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { Engine } from 'json-rules-engine';

const DAY = 86_400_000;
function bound(text: string | undefined, end: boolean): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return Date.parse(`${text}T00:00:00Z`) + (end ? DAY - 1 : 0);
  return Date.parse(/(Z|[+-]\d\d:\d\d)$/.test(text) ? text : `${text}Z`);
}
const inForce = (x: any, t: number): boolean => {
  const from = bound(x.validFrom, false);
  const until = bound(x.validUntil, true);
  return (from === undefined || t >= from) && (until === undefined || t <= until);
};
const under = (listed: string[], id: string): boolean => listed.some((l) => id === l || id.startsWith(`${l}.`));

export interface OracleCategory {
  category: string;
  decision: 'permit' | 'deny';
  rules: string[];
  reason?: string;
}

/** `conditionHolds` is the real json-rules-engine, so the oracle shares no code with the walk. */
export async function oracle(policies: any, rules: any[], request: any, now: number, granted: readonly string[] = []): Promise<{ decision: string; categories: OracleCategory[] }> {
  const lacks = (x: any): boolean => (x.requires ?? []).some((k: string) => !granted.includes(k));
  const t = request.requestedAt ? Date.parse(request.requestedAt) : now;
  const lb = policies.legalBases.find((l: any) => l.id === request.legalBasis);
  const failures: string[] = [];
  if (!inForce(policies.covenant, t)) failures.push('covenant-not-in-force');
  if (!inForce(lb, t)) failures.push('legal-basis-not-in-force');
  if (!lb.providers.includes(request.provider)) failures.push('legal-basis-not-available-to-provider');
  if (lb.purposes && !under(lb.purposes, request.purpose)) failures.push('legal-basis-does-not-cover-purpose');
  if (lacks(lb)) failures.push('approval-required');
  const facts = {
    provider: request.provider,
    recipient: request.recipient,
    dataCategories: request.dataCategories,
    purpose: request.purpose,
    legalBasis: request.legalBasis,
    subjectCount: request.subjectCount ?? null,
    pseudonymised: request.pseudonymised ?? false,
    caseReference: request.caseReference ?? null,
    requestedAt: request.requestedAt ?? null,
    context: request.context ?? null,
  };
  const categories: OracleCategory[] = [];
  for (const c of request.dataCategories as string[]) {
    if (failures.length > 0) {
      categories.push({ category: c, decision: 'deny', rules: [], reason: failures[0] as string });
      continue;
    }
    if (!under(lb.categories, c)) {
      categories.push({ category: c, decision: 'deny', rules: [], reason: 'legal-basis-does-not-cover-category' });
      continue;
    }
    const permits: string[] = [];
    const denies: string[] = [];
    const awaiting: string[] = [];
    for (const r of rules) {
      if (!inForce(r, t)) continue;
      if (r.providers && !r.providers.includes(request.provider)) continue;
      if (r.recipients && !r.recipients.includes(request.recipient)) continue;
      if (r.legalBases && !r.legalBases.includes(request.legalBasis)) continue;
      if (r.purposes && !under(r.purposes, request.purpose)) continue;
      if (r.categories && !under(r.categories, c)) continue;
      if (r.when) {
        const engine = new Engine([], { pathResolver: (v: any, p: string) => (p === '$.ref' ? (v.ref ?? null) : null) });
        engine.addRule({ conditions: r.when, event: { type: 'x' } });
        let holds: boolean | 'error';
        try {
          holds = (await engine.run({ ...facts })).events.length > 0;
        } catch {
          holds = 'error';
        }
        if (holds === false || (holds === 'error' && r.effect === 'permit')) continue;
      }
      (r.effect === 'deny' ? denies : lacks(r) ? awaiting : permits).push(r.id);
    }
    if (denies.length > 0) categories.push({ category: c, decision: 'deny', rules: denies, reason: 'denied-by-rule' });
    else if (permits.length > 0) categories.push({ category: c, decision: 'permit', rules: permits });
    else if (awaiting.length > 0) categories.push({ category: c, decision: 'deny', rules: awaiting, reason: 'approval-required' });
    else categories.push({ category: c, decision: 'deny', rules: [], reason: 'no-permitting-rule' });
  }
  return { decision: categories.every((c) => c.decision === 'permit') ? 'permit' : 'deny', categories };
}
