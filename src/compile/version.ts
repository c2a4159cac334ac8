// policyVersion: one hash over the name and exact bytes of every rule file loaded, in load order.
import { createHash } from 'node:crypto';

/** A file's digest, as policyVersionOf() takes it: the sha256 (hex) of its text. */
export const digestOf = (text: string): string => createHash('sha256').update(text).digest('hex');

/** From each file's name and the sha256 (hex) of its bytes. */
export function policyVersionOf(files: readonly { readonly name: string; readonly digest: string }[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.name}\u0000${f.digest}\n`);
  return `sha256:${h.digest('hex')}`;
}
