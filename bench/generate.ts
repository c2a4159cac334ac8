// Generated covenants for benchmarks. The vocabulary grows with the rule count, as a real
// covenant's does (more rules means more specific categories and purposes), while the partners
// stay the seven of NSOC. Seeded, so every run measures the same covenant.
import type { Covenant } from '../src/domain/covenant.js';
import { compileCovenant } from '../src/compile/index.js';
import { parseText } from '../src/loader/parse.js';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PARTNERS = ['politie', 'om', 'douane', 'belastingdienst', 'fiod', 'kmar', 'defensie'];

export interface Generated {
  policies: Record<string, unknown>;
  rules: Record<string, unknown>[];
  requests: Record<string, unknown>[];
}

export function generate(ruleCount: number, seed = 1): Generated {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const some = <T>(xs: readonly T[], max: number): T[] => [...new Set(Array.from({ length: 1 + Math.floor(r() * max) }, () => pick(xs)))];

  const roots = Math.max(4, Math.ceil(Math.sqrt(ruleCount / 4)));
  const categories: string[] = [];
  const leaves: string[] = [];
  for (let i = 0; i < roots; i++) {
    categories.push(`c${i}`);
    for (let j = 0; j < 4; j++) {
      categories.push(`c${i}.s${j}`);
      leaves.push(`c${i}.s${j}`);
    }
  }
  const purposeRoots = Math.max(2, Math.ceil(Math.sqrt(ruleCount) / 4));
  const purposes: string[] = [];
  for (let i = 0; i < purposeRoots; i++) {
    purposes.push(`p${i}`);
    for (let j = 0; j < 3; j++) purposes.push(`p${i}.f${j}`);
  }
  const lbCount = Math.max(3, Math.ceil(ruleCount / 25));
  const legalBases = Array.from({ length: lbCount }, (_, i) => ({
    id: `lb${i}`,
    citation: `Testwet art. ${i + 1}`,
    providers: some(PARTNERS, 3),
    categories: some(categories.filter((c) => !c.includes('.')), 3),
  }));

  const conditions = [
    { all: [{ fact: 'subjectCount', operator: 'lessThanInclusive', value: 100 }] },
    { any: [{ fact: 'pseudonymised', operator: 'equal', value: true }, { fact: 'subjectCount', operator: 'lessThanInclusive', value: 10 }] },
    { all: [{ fact: 'context', path: '$.dpiaReference', operator: 'notEqual', value: null }] },
  ];
  const rules = Array.from({ length: ruleCount }, (_, i) => {
    const lb = pick(legalBases);
    const rule: Record<string, unknown> = {
      id: `r${i}`,
      citation: `Art. ${i + 1}`,
      effect: r() < 0.1 ? 'deny' : 'permit',
      providers: some(lb.providers, 2),
      recipients: some(PARTNERS, 3),
      categories: some(leaves.filter((l) => lb.categories.some((c) => l.startsWith(`${c}.`))), 3),
      purposes: some(purposes, 2),
      legalBases: [lb.id],
    };
    if (r() < 0.3) rule.when = pick(conditions);
    if (r() < 0.5) rule.obligations = [{ type: 'retention', days: 30 + Math.floor(r() * 335) }];
    if (r() < 0.2) rule.validUntil = '2030-12-31';
    return rule;
  });

  // Partner systems mostly ask about exchanges the covenant foresees; some ask about others.
  const requests = Array.from({ length: 2000 }, () => {
    const rule = pick(rules);
    const provider = r() < 0.7 ? pick(rule.providers as string[]) : pick(PARTNERS);
    const recipients = (rule.recipients as string[]).filter((p) => p !== provider);
    const recipient = recipients.length > 0 && r() < 0.8 ? pick(recipients) : pick(PARTNERS.filter((p) => p !== provider));
    return {
      provider,
      recipient,
      dataCategories: some(rule.categories as string[], 2),
      purpose: r() < 0.8 ? pick(rule.purposes as string[]) : pick(purposes),
      legalBasis: (rule.legalBases as string[])[0],
      subjectCount: Math.floor(r() * 150),
      pseudonymised: r() < 0.5,
      requestedAt: '2025-06-01T12:00:00Z',
      ...(r() < 0.3 && { context: { dpiaReference: 'DPIA-1' } }),
    };
  });

  return {
    policies: {
      covenant: { id: 'bench', title: 'Bench', validFrom: '2024-01-01', validUntil: '2030-12-31' },
      partners: PARTNERS.map((id) => ({ id })),
      dataCategories: categories.map((id) => ({ id })),
      purposes: purposes.map((id) => ({ id })),
      legalBases,
    },
    rules,
    requests,
  };
}

export function compileGenerated(g: Generated): Covenant {
  const docs = [
    ['policies/bench.json', g.policies],
    ['rules/bench.json', { rules: g.rules }],
  ].map(([name, value]) => {
    const parsed = parseText(name as string, JSON.stringify(value));
    if (!parsed.ok) throw new Error('generated file does not parse');
    return parsed.document;
  });
  const { covenant, diagnostics } = compileCovenant(docs);
  if (!covenant) throw new Error(`generated covenant does not compile: ${diagnostics[0]?.message}`);
  return covenant;
}
