// policyVersion: one hash over the name and exact bytes of every rule file loaded, in load order.
import { createHash } from 'node:crypto';
import type { ParsedDocument } from '../domain/types.js';

export function policyVersion(documents: readonly ParsedDocument[]): string {
  const h = createHash('sha256');
  for (const d of documents) h.update(`${d.name}\u0000${d.digest}\n`);
  return `sha256:${h.digest('hex')}`;
}
