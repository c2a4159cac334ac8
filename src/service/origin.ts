// Onward provision: a request may name, in `derivedFrom`, the decisions through which its provider
// received the data it now provides. They are looked up in the log here, at the edge, and handed
// to the engine as the `origin` fact; the engine stays pure. Only a recorded, permitted decision
// whose recipient is this request's provider counts: anything else is refused, never guessed.
import type { DecisionLog } from '../audit/types.js';
import type { DecisionRequest, Origin, RequestError } from '../domain/types.js';

export type OriginLookup = { readonly ok: true; readonly origin: Origin | undefined } | { readonly ok: false; readonly errors: readonly RequestError[] };

export async function originOf(log: Pick<DecisionLog, 'get'>, r: DecisionRequest): Promise<OriginLookup> {
  if (!r.derivedFrom) return { ok: true, origin: undefined };
  const errors: RequestError[] = [];
  const seen = { providers: new Set<string>(), categories: new Set<string>(), purposes: new Set<string>(), legalBases: new Set<string>() };
  for (const [i, id] of r.derivedFrom.entries()) {
    const path = `/derivedFrom/${i}`;
    const entry = await log.get(id);
    if (!entry || entry.kind !== 'decision') {
      errors.push({ path, message: `no decision \`${id}\` is recorded` });
      continue;
    }
    if (entry.decision.decision !== 'permit') {
      errors.push({ path, message: `decision \`${id}\` was a deny: no data came of it` });
      continue;
    }
    if (entry.request.recipient !== r.provider) {
      errors.push({ path, message: `decision \`${id}\` gave its data to \`${entry.request.recipient}\`, not to the provider \`${r.provider}\`` });
      continue;
    }
    seen.providers.add(entry.request.provider);
    for (const c of entry.request.dataCategories) seen.categories.add(c);
    seen.purposes.add(entry.request.purpose);
    seen.legalBases.add(entry.request.legalBasis);
  }
  if (errors.length > 0) return { ok: false, errors };
  const sorted = (s: Set<string>): string[] => [...s].sort();
  return {
    ok: true,
    origin: { decisions: [...r.derivedFrom], providers: sorted(seen.providers), categories: sorted(seen.categories), purposes: sorted(seen.purposes), legalBases: sorted(seen.legalBases) },
  };
}
