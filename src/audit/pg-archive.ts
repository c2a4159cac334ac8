// The archive of policy versions in PostgreSQL, shared by replicas: each version's text a row,
// the index a row of shared state.
import type { Database } from './pg-schema.js';
import { openSharedRow } from './pg-state.js';
import { PolicyArchive, type ArchiveIndex, type VersionTexts } from './policy-archive.js';

export function pgTexts(db: Database): VersionTexts {
  const table = `${db.schema}.policy_versions`;
  return {
    has: async (policyVersion) => (await db.pool.query(`select 1 from ${table} where policy_version = $1`, [policyVersion])).rowCount === 1,
    // Two replicas that load the same files at once store the same text: the first one stays.
    put: async (policyVersion, text) => void (await db.pool.query(`insert into ${table} (policy_version, text) values ($1, $2) on conflict do nothing`, [policyVersion, text])),
    read: async (policyVersion) => (await db.pool.query<{ text: string }>(`select text from ${table} where policy_version = $1`, [policyVersion])).rows[0]?.text,
    async *all() {
      const { rows } = await db.pool.query<{ policy_version: string }>(`select policy_version from ${table} order by policy_version`);
      for (const r of rows) {
        const text = (await db.pool.query<{ text: string }>(`select text from ${table} where policy_version = $1`, [r.policy_version])).rows[0]?.text;
        yield { policyVersion: r.policy_version, text };
      }
    },
  };
}

export async function pgArchive(db: Database): Promise<PolicyArchive> {
  return PolicyArchive.on(await openSharedRow<ArchiveIndex>(db, 'policy-index', { versions: [] }), pgTexts(db));
}
