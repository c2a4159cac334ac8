// CONTRACT 2.2(6): equal obligations are kept once, and all retention periods merge into one with
// the fewest days (the strictest), at the place where the first retention appeared.
import type { Obligation } from '../domain/types.js';

const keyOf = (o: Obligation): string => JSON.stringify(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

export function mergeObligations(all: readonly Obligation[]): Obligation[] {
  const out: Obligation[] = [];
  const seen = new Set<string>();
  let retentionAt = -1;
  for (const o of all) {
    if (o.type === 'retention') {
      const current = out[retentionAt];
      if (current === undefined) {
        retentionAt = out.length;
        out.push(o);
      } else if (current.type === 'retention' && o.days < current.days) {
        out[retentionAt] = o;
      }
      continue;
    }
    const key = keyOf(o);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(o);
  }
  return out;
}
