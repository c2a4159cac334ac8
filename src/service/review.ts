// Replay and impact: evaluating recorded requests again, under the version they were decided
// under, under the version in force now, or under proposed files.
import type { Covenant } from '../domain/covenant.js';
import type { CategoryDecision, Decision, Diagnostic, Effect, Evaluation, Obligation } from '../domain/types.js';
import { checkRequest, evaluate } from '../engine/index.js';
import { compileCovenant, hasErrors, type CompileOptions, type Compiled } from '../compile/index.js';
import { isTestFile } from '../loader/files.js';
import { parseText } from '../loader/parse.js';
import type { ArchivedFile, PolicyArchive } from '../audit/policy-archive.js';
import type { DecisionLog, LogEntry } from '../audit/types.js';

type Decided = Extract<LogEntry, { kind: 'decision' | 'simulation' }>;

/** Compiles files (archived or posted) into a covenant, or says why not; test files are left out. */
export function covenantFromFiles(files: readonly ArchivedFile[], options: CompileOptions = {}): Compiled {
  const docs = [];
  const diagnostics: Diagnostic[] = [];
  for (const f of files) {
    if (isTestFile(f.name)) continue;
    const parsed = parseText(f.name, f.text, f.name);
    if (parsed.ok) docs.push(parsed.document);
    else diagnostics.push(...parsed.diagnostics);
  }
  if (diagnostics.length > 0) return { diagnostics };
  const compiled = compileCovenant(docs, options);
  return hasErrors(compiled.diagnostics) ? { diagnostics: compiled.diagnostics } : compiled;
}

/** Keeps recently used archived versions compiled. */
export class VersionCache {
  private readonly cache = new Map<string, Covenant>();
  constructor(private readonly archive: PolicyArchive, private readonly size = 8) {}

  async get(policyVersion: string): Promise<Covenant | undefined> {
    const hit = this.cache.get(policyVersion);
    if (hit) return hit;
    const files = await this.archive.get(policyVersion);
    const covenant = files && covenantFromFiles(files).covenant;
    if (!covenant) return undefined;
    if (this.cache.size >= this.size) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(policyVersion, covenant);
    return covenant;
  }
}

/** The evaluation of a recorded request under a covenant, at the time it was recorded. */
export function reevaluate(covenant: Covenant, entry: Decided): Evaluation | { error: string } {
  const checked = checkRequest(covenant, entry.request);
  if (!checked.ok) return { error: checked.error.errors.map((e) => `${e.path}: ${e.message}`).join('; ') };
  // With the approvals the decision relied on, as they stood then: a later revocation does not
  // change what was decided, and a later grant does not either.
  const approvals = entry.approvals && new Set(entry.approvals.map((a) => a.kind));
  return evaluate(covenant, checked.value, Date.parse(entry.decision.evaluatedAt), { askedBy: entry.caller, ...(entry.origin && { origin: entry.origin }), ...(approvals && { approvals }) });
}

const essence = (d: Pick<Evaluation, 'decision' | 'categories' | 'obligations'>): { decision: Effect; categories: readonly CategoryDecision[]; obligations: readonly Obligation[] } => ({
  decision: d.decision,
  categories: d.categories,
  obligations: d.obligations,
});

/** Rules that applied in one evaluation and not in the other: the change that made a difference. */
export function ruleDifference(a: Pick<Evaluation, 'categories'>, b: Pick<Evaluation, 'categories'>): string[] {
  // A rule counts with the outcome it gave its category: one that applied both times but turned
  // from permit to deny (an edited `effect`) made the difference as much as one added or removed.
  const applied = (e: Pick<Evaluation, 'categories'>): Map<string, string> => new Map(e.categories.flatMap((c) => c.rules.map((r) => [`${c.category}\u0000${c.decision}\u0000${r}`, r] as const)));
  const x = applied(a);
  const y = applied(b);
  return [...new Set([...[...x].filter(([k]) => !y.has(k)), ...[...y].filter(([k]) => !x.has(k))].map(([, r]) => r))].sort();
}

export interface Replay {
  decisionId: string;
  recorded: Decision;
  replayed: Evaluation | null;
  reproduced: boolean;
  current: Evaluation | null;
  changed: boolean;
  currentPolicyVersion: string;
  /** what differs between the recorded decision and the current one, and which rules made it */
  differences: { category: string; recorded: CategoryDecision | undefined; current: CategoryDecision | undefined }[];
  rules: string[];
  problems: string[];
}

export type ReplayOutcome = { ok: true; value: Replay } | { ok: false; status: 404 | 409; message: string };

export async function replay(log: DecisionLog, versions: VersionCache, current: Covenant, id: string): Promise<ReplayOutcome> {
  const entry = await log.get(id);
  if (!entry || (entry.kind !== 'decision' && entry.kind !== 'simulation')) return { ok: false, status: 404, message: `no recorded decision with id \`${id}\`` };
  const problems: string[] = [];
  const archived = await versions.get(entry.policyVersion);
  let replayed: Evaluation | null = null;
  if (!archived) problems.push(`policy version ${entry.policyVersion} is not in the archive`);
  else {
    const r = reevaluate(archived, entry);
    if ('error' in r) problems.push(`the recorded request does not check against its own version: ${r.error}`);
    else replayed = r;
  }
  const now = reevaluate(current, entry);
  if ('error' in now) problems.push(`under the current version the request is refused: ${now.error}`);
  const currentEval = 'error' in now ? null : now;
  const reproduced = replayed !== null && JSON.stringify(essence(replayed)) === JSON.stringify(essence(entry.decision));
  if (replayed && !reproduced) problems.push('the replay does NOT reproduce the recorded decision');
  const differences = entry.request.dataCategories
    .map((category) => ({
      category,
      recorded: entry.decision.categories.find((c) => c.category === category),
      current: currentEval?.categories.find((c) => c.category === category),
    }))
    .filter((d) => JSON.stringify(d.recorded) !== JSON.stringify(d.current));
  return {
    ok: true,
    value: {
      decisionId: id,
      recorded: entry.decision,
      replayed,
      reproduced,
      current: currentEval,
      changed: (currentEval?.decision ?? 'deny') !== entry.decision.decision,
      currentPolicyVersion: current.policyVersion,
      differences,
      rules: currentEval ? ruleDifference(entry.decision, currentEval) : [],
      problems,
    },
  };
}

export interface Impact {
  policyVersion: string;
  evaluated: number;
  flips: { decisionId: string; recorded: Effect; now: Effect; rules: string[] }[];
  /** the flips grouped by the rule change responsible */
  byRule: { rule: string; flips: number; toPermit: number; toDeny: number }[];
}

/** Each logged decision in the period, evaluated under a proposed covenant at its recorded time. */
export async function impact(log: DecisionLog, proposed: Covenant, range: { from?: number; to?: number }): Promise<Impact> {
  let evaluated = 0;
  const flips: Impact['flips'] = [];
  for await (const entry of log.entries(range)) {
    if (entry.kind !== 'decision') continue;
    evaluated++;
    const r = reevaluate(proposed, entry);
    const now: Effect = 'error' in r ? 'deny' : r.decision;
    if (now === entry.decision.decision) continue;
    flips.push({ decisionId: entry.id, recorded: entry.decision.decision, now, rules: 'error' in r ? [] : ruleDifference(entry.decision, r) });
  }
  const groups = new Map<string, Impact['byRule'][number]>();
  for (const f of flips) {
    for (const rule of f.rules.length > 0 ? f.rules : ['(no rule: request-level change)']) {
      const g = groups.get(rule) ?? { rule, flips: 0, toPermit: 0, toDeny: 0 };
      g.flips++;
      if (f.now === 'permit') g.toPermit++;
      else g.toDeny++;
      groups.set(rule, g);
    }
  }
  return { policyVersion: proposed.policyVersion, evaluated, flips, byRule: [...groups.values()].sort((a, b) => b.flips - a.flips || a.rule.localeCompare(b.rule)) };
}
