// The only module that imports json-rules-engine.
//
// We use json-rules-engine's condition model, its validation and its operators (with their fact
// validators and decorators), but walk the condition tree ourselves, synchronously. Why: an
// Engine.run() is asynchronous and keeps run state on the engine (issues #303 and #360), and it
// costs tens of microseconds per call where a decision has a budget of about ten. The walk below
// mirrors Condition.evaluate: the same operator lookup, the same fact-value validator, the same
// fact references in `value`, the same JSONPath resolution. test/conditions.test.ts checks, on
// generated conditions, that it agrees with Engine.run().
import { Engine, Rule as JreRule } from 'json-rules-engine';
import { JSONPath } from 'jsonpath-plus';
import type {
  CompiledCondition,
  ConditionNode,
  ConditionOutcome,
  ConditionValue,
  Facts,
  Leaf,
  LeafOutcome,
  PortableCondition,
  PortableNode,
} from './types.js';

export type { CompiledCondition, ConditionOutcome, Facts, LeafOutcome, PortableCondition } from './types.js';

interface JreOperator {
  evaluate(factValue: unknown, value: unknown): boolean;
}
interface JreOperatorMap {
  get(name: string): JreOperator | null;
}

// INVARIANT: only read after construction; the operator map caches decorated operators on first
// use, which is idempotent.
const operators = (new Engine() as unknown as { operators: JreOperatorMap }).operators;

/** The facts a `when` may name: the request's fields (CONTRACT 1.2). */
export const KNOWN_FACTS: readonly string[] = [
  'provider',
  'recipient',
  'dataCategories',
  'purpose',
  'legalBasis',
  'subjectCount',
  'pseudonymised',
  'caseReference',
  'requestedAt',
  'context',
  'derivedFrom',
  // not request fields: who asks within the provider or recipient, from the caller's key
  'unit',
  'function',
  // nor this: where the data of a request with `derivedFrom` came from, from the log
  'origin',
];
const knownFacts = new Set(KNOWN_FACTS);

export interface ConditionProblem {
  /** path inside the `when` clause */
  readonly path: readonly (string | number)[];
  readonly code: 'unknown-fact' | 'unknown-operator' | 'invalid-condition' | 'invalid-path';
  readonly message: string;
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const BOOLEAN_KEYS = ['all', 'any', 'not'] as const;

/** Checks and compiles a `when` clause; every problem is reported, none thrown. */
export function compileCondition(
  raw: unknown,
): { ok: true; value: CompiledCondition } | { ok: false; error: ConditionProblem[] } {
  const problems: ConditionProblem[] = [];
  if (!isObject(raw) || !BOOLEAN_KEYS.some((k) => k in raw)) {
    return {
      ok: false,
      error: [{ path: [], code: 'invalid-condition', message: '`when` must start with `all`, `any` or `not`' }],
    };
  }
  const root = compileNode(raw, [], problems);
  if (problems.length === 0) {
    // Belt and braces: whatever json-rules-engine itself would refuse, we refuse too.
    try {
      new JreRule({ conditions: raw as never, event: { type: 'when' } });
    } catch (e) {
      problems.push({ path: [], code: 'invalid-condition', message: (e as Error).message });
    }
  }
  if (problems.length > 0 || root === undefined) return { ok: false, error: problems };
  return { ok: true, value: { root, source: raw } };
}

function compileNode(raw: unknown, path: (string | number)[], problems: ConditionProblem[]): ConditionNode | undefined {
  if (!isObject(raw)) {
    problems.push({ path, code: 'invalid-condition', message: 'a condition must be an object' });
    return undefined;
  }
  const name = typeof raw.name === 'string' ? raw.name : undefined;
  const booleans = BOOLEAN_KEYS.filter((k) => k in raw);
  if (booleans.length > 1 || (booleans.length === 1 && 'fact' in raw)) {
    problems.push({
      path,
      code: 'invalid-condition',
      message: 'a condition has exactly one of `all`, `any`, `not`, or `fact` with `operator` and `value`',
    });
    return undefined;
  }
  const op = booleans[0];
  if (op === 'not') {
    const item = compileNode(raw.not, [...path, 'not'], problems);
    return item && { kind: 'not', item, ...(name !== undefined && { name }) };
  }
  if (op === 'all' || op === 'any') {
    const list = raw[op];
    if (!Array.isArray(list)) {
      problems.push({ path: [...path, op], code: 'invalid-condition', message: `\`${op}\` must be a list of conditions` });
      return undefined;
    }
    const items = list.map((c, i) => compileNode(c, [...path, op, i], problems));
    if (items.some((i) => i === undefined)) return undefined;
    return { kind: op, items: items as ConditionNode[], ...(name !== undefined && { name }) };
  }
  return compileLeaf(raw, path, problems, name);
}

function compileLeaf(raw: Raw, path: (string | number)[], problems: ConditionProblem[], name?: string): Leaf | undefined {
  const before = problems.length;
  for (const key of ['fact', 'operator', 'value'] as const) {
    if (!(key in raw)) problems.push({ path, code: 'invalid-condition', message: `a condition needs \`${key}\`` });
  }
  if (problems.length > before) return undefined;
  const { fact, operator } = raw;
  if (typeof fact !== 'string' || !knownFacts.has(fact)) {
    problems.push({
      path: [...path, 'fact'],
      code: 'unknown-fact',
      message: `unknown fact \`${String(fact)}\`; known facts: ${KNOWN_FACTS.join(', ')}`,
    });
  }
  const jre = typeof operator === 'string' ? operators.get(operator) : null;
  if (jre === null) {
    problems.push({ path: [...path, 'operator'], code: 'unknown-operator', message: `unknown operator \`${String(operator)}\`` });
  }
  const pathOk = checkPath(raw.path, [...path, 'path'], problems);
  const value = compileValue(raw.value, [...path, 'value'], problems);
  if ((operator === 'in' || operator === 'notIn') && value?.kind === 'literal' && !Array.isArray(value.value)) {
    problems.push({ path: [...path, 'value'], code: 'invalid-condition', message: `\`${operator}\` needs a list as its value` });
  }
  if (problems.length > before || jre === null || value === undefined || !pathOk) return undefined;
  return {
    kind: 'leaf',
    fact: fact as string,
    ...(typeof raw.path === 'string' && { path: raw.path }),
    operator: operator as string,
    value,
    ...(name !== undefined && { name }),
    test: (a, b) => jre.evaluate(a, b),
  };
}

/** The condition without its operator functions, for a structured clone to another thread. */
export function portable(condition: CompiledCondition): PortableCondition {
  const strip = (node: ConditionNode): PortableNode => {
    if (node.kind === 'not') return { ...node, item: strip(node.item) };
    if (node.kind !== 'leaf') return { ...node, items: node.items.map(strip) };
    const { test: _, ...rest } = node;
    return rest;
  };
  return { root: strip(condition.root), source: condition.source };
}

/** A condition that came from another thread, with its operators looked up again. */
export function revive(condition: PortableCondition): CompiledCondition {
  const back = (node: PortableNode): ConditionNode => {
    if (node.kind === 'not') return { ...node, item: back(node.item) };
    if (node.kind !== 'leaf') return { ...node, items: node.items.map(back) };
    const jre = operators.get(node.operator);
    // The other thread compiled it with this same library: an unknown operator is a broken message.
    if (jre === null) throw new Error(`operator \`${node.operator}\` is not known on this thread`);
    return { ...node, test: (a, b) => jre.evaluate(a, b) };
  };
  return { root: back(condition.root), source: condition.source };
}

function compileValue(raw: unknown, path: (string | number)[], problems: ConditionProblem[]): ConditionValue | undefined {
  // json-rules-engine reads an object with a `fact` key as a reference to that fact.
  if (!isObject(raw) || !Object.prototype.hasOwnProperty.call(raw, 'fact')) return { kind: 'literal', value: raw };
  if (typeof raw.fact !== 'string' || !knownFacts.has(raw.fact)) {
    problems.push({ path: [...path, 'fact'], code: 'unknown-fact', message: `unknown fact \`${String(raw.fact)}\`` });
    return undefined;
  }
  if (!checkPath(raw.path, [...path, 'path'], problems)) return undefined;
  return { kind: 'fact', fact: raw.fact, ...(typeof raw.path === 'string' && { path: raw.path }) };
}

function checkPath(raw: unknown, path: (string | number)[], problems: ConditionProblem[]): boolean {
  if (raw === undefined) return true;
  if (typeof raw !== 'string' || !raw.startsWith('$')) {
    problems.push({ path, code: 'invalid-path', message: 'a `path` is a JSONPath starting with `$`' });
    return false;
  }
  try {
    JSONPath({ path: raw, json: {}, wrap: false });
    return true;
  } catch (e) {
    problems.push({ path, code: 'invalid-path', message: `invalid JSONPath: ${(e as Error).message}` });
    return false;
  }
}

// `$.a.b`: the paths covenants use. Resolved directly, as JSONPath would (own properties only),
// since jsonpath-plus costs microseconds a call; any other path goes through jsonpath-plus.
const SIMPLE_PATH = /^\$(\.[A-Za-z_][A-Za-z0-9_-]*)+$/;

function resolvePath(value: object, path: string): unknown {
  if (!SIMPLE_PATH.test(path)) return JSONPath({ path, json: value, wrap: false });
  let node: unknown = value;
  for (const key of path.slice(2).split('.')) {
    if (typeof node !== 'object' || node === null || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function factValue(facts: Facts, fact: string, path: string | undefined): unknown {
  const value = facts[fact] ?? null;
  // As json-rules-engine's Almanac: a path applies to objects only; absent paths are null (CONTRACT 2.1).
  if (path === undefined || typeof value !== 'object' || value === null) return value;
  return resolvePath(value, path) ?? null;
}

const actualOf = (leaf: Leaf, facts: Facts): unknown => factValue(facts, leaf.fact, leaf.path);
const expectedOf = (leaf: Leaf, facts: Facts): unknown => (leaf.value.kind === 'literal' ? leaf.value.value : factValue(facts, leaf.value.fact, leaf.value.path));

/** Whether a leaf holds: what every decision asks, so without the record an explanation wants. */
const leafHolds = (leaf: Leaf, facts: Facts): boolean => leaf.test(actualOf(leaf, facts), expectedOf(leaf, facts));

function leafOutcome(leaf: Leaf, facts: Facts): LeafOutcome {
  const actual = actualOf(leaf, facts);
  const expected = expectedOf(leaf, facts);
  return {
    fact: leaf.fact,
    ...(leaf.path !== undefined && { path: leaf.path }),
    operator: leaf.operator,
    expected,
    actual,
    result: leaf.test(actual, expected),
  };
}

// No short circuit: json-rules-engine evaluates every condition of a priority set at once (we
// allow only one priority), so a leaf that throws makes the clause fail to evaluate even where a
// sibling already decided it.
function holds(node: ConditionNode, facts: Facts): boolean {
  switch (node.kind) {
    case 'all': {
      const results = node.items.map((n) => holds(n, facts));
      return results.every(Boolean);
    }
    case 'any': {
      // json-rules-engine holds an empty `any` to be true, as it does an empty `all`
      const results = node.items.map((n) => holds(n, facts));
      return results.length === 0 || results.some(Boolean);
    }
    case 'not':
      return !holds(node.item, facts);
    case 'leaf':
      return leafHolds(node, facts);
  }
}

/** Evaluates a clause; an operator or path that throws makes it `error`, never an exception. */
export function evaluateCondition(condition: CompiledCondition, facts: Facts): ConditionOutcome {
  try {
    return holds(condition.root, facts) ? 'holds' : 'fails';
  } catch {
    return 'error';
  }
}

/**
 * The leaves that kept a failing clause from holding, with their actual values: for near misses.
 * Every leaf is evaluated (no short circuit), since an explanation wants all of them.
 */
export function explainCondition(condition: CompiledCondition, facts: Facts): LeafOutcome[] {
  const failed: LeafOutcome[] = [];
  const visit = (node: ConditionNode, negated: boolean): void => {
    if (node.kind === 'not') return visit(node.item, !negated);
    if (node.kind !== 'leaf') return node.items.forEach((n) => visit(n, negated));
    try {
      const outcome = leafOutcome(node, facts);
      if (outcome.result === negated) failed.push(outcome);
    } catch {
      failed.push({ fact: node.fact, operator: node.operator, expected: undefined, actual: undefined, result: false });
    }
  };
  visit(condition.root, false);
  return failed;
}

/** The clause through json-rules-engine's own Engine.run(): the reference the walk must match. */
export async function evaluateWithEngine(condition: CompiledCondition, facts: Facts): Promise<ConditionOutcome> {
  const engine = new Engine([], { allowUndefinedFacts: false, pathResolver: (v, p) => JSONPath({ path: p, json: v, wrap: false }) ?? null });
  engine.addRule({ conditions: condition.source as never, event: { type: 'holds' } });
  try {
    const result = await engine.run({ ...facts });
    return result.events.length > 0 ? 'holds' : 'fails';
  } catch {
    return 'error';
  }
}
