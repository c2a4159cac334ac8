// The shape of a compiled `when` clause. Opaque to everyone but src/conditions.

/** A value in a condition: a literal, or a reference to another fact as json-rules-engine allows. */
export type ConditionValue =
  | { readonly kind: 'literal'; readonly value: unknown }
  | { readonly kind: 'fact'; readonly fact: string; readonly path?: string };

export interface Leaf {
  readonly kind: 'leaf';
  readonly fact: string;
  readonly path?: string;
  readonly operator: string;
  readonly value: ConditionValue;
  readonly name?: string;
  /** evaluates the operator exactly as json-rules-engine does, validator included */
  readonly test: (factValue: unknown, value: unknown) => boolean;
}

export type ConditionNode =
  | { readonly kind: 'all' | 'any'; readonly items: readonly ConditionNode[]; readonly name?: string }
  | { readonly kind: 'not'; readonly item: ConditionNode; readonly name?: string }
  | Leaf;

export interface CompiledCondition {
  readonly root: ConditionNode;
  /** the clause as written, for json-rules-engine and for reports */
  readonly source: unknown;
}

/** The facts a `when` sees (CONTRACT 1.2): every request field, absent ones as null. */
export type Facts = Readonly<Record<string, unknown>>;

/** The outcome of one leaf, with the actual fact value, as json-rules-engine records it. */
export interface LeafOutcome {
  readonly fact: string;
  readonly path?: string;
  readonly operator: string;
  readonly expected: unknown;
  readonly actual: unknown;
  readonly result: boolean;
}

export type ConditionOutcome = 'holds' | 'fails' | 'error';

/**
 * A compiled condition as it crosses to another thread: a leaf without its operator function,
 * which a structured clone cannot carry. `revive` gives the function back.
 */
export type PortableNode =
  | { readonly kind: 'all' | 'any'; readonly items: readonly PortableNode[]; readonly name?: string }
  | { readonly kind: 'not'; readonly item: PortableNode; readonly name?: string }
  | Omit<Leaf, 'test'>;

export interface PortableCondition {
  readonly root: PortableNode;
  readonly source: unknown;
}
