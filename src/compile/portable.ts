// A compiled covenant in parts that a structured clone can carry from the thread that compiled it
// to the service's: the head (vocabulary, legal bases, version) and the rules in chunks, their
// `when` clauses without operator functions. The index and the lookup by id are rebuilt here:
// both are linear in the rules and hold closures.
import type { Covenant, Rule } from '../domain/covenant.js';
import { portable, revive, type PortableCondition } from '../conditions/index.js';
import type { Id } from '../domain/types.js';
import { indexBuilder } from './rule-index.js';

export type PortableRule = Omit<Rule, 'when'> & { readonly when?: PortableCondition };
export type CovenantHead = Omit<Covenant, 'rules' | 'rulesById' | 'index'>;

export function portableRule(rule: Rule): PortableRule {
  return rule.when ? { ...rule, when: portable(rule.when) } : (rule as PortableRule);
}

export function reviveRule(rule: PortableRule): Rule {
  return rule.when ? { ...rule, when: revive(rule.when) } : (rule as Rule);
}

export function headOf(covenant: Covenant): CovenantHead {
  const { rules: _r, rulesById: _b, index: _i, ...head } = covenant;
  return head;
}

/** The covenant from its head and its rules in definition order. */
export function assemble(head: CovenantHead, rules: readonly Rule[]): Covenant {
  const assembly = new Assembly();
  assembly.add(rules);
  return assembly.covenant(head);
}

/** A covenant put together part by part, in definition order, each part filed as it arrives. */
export class Assembly {
  private readonly rules: Rule[] = [];
  private readonly byId = new Map<Id, Rule>();
  private readonly index = indexBuilder();

  add(rules: readonly Rule[]): void {
    for (const rule of rules) {
      this.rules.push(rule);
      this.byId.set(rule.id, rule);
      this.index.add(rule);
    }
  }

  covenant(head: CovenantHead): Covenant {
    return { ...head, rules: this.rules, rulesById: this.byId, index: this.index.done() };
  }
}
