// Shared state in PostgreSQL: each document one row, changed in a transaction that locks it, and
// re-read when its version moved. What replicas share this way (keys, approvals, the index of
// policy versions) is small and read far more often than it changes.
import { inTransaction, type Database } from './pg-schema.js';
import type { SharedState } from '../small-state.js';

export async function openSharedRow<T>(db: Database, name: string, defaults: T): Promise<SharedState<T>> {
  const table = `${db.schema}.state`;
  await db.pool.query(`insert into ${table} (name, doc, version) values ($1, $2, 0) on conflict do nothing`, [name, JSON.stringify(defaults)]);
  let data = defaults;
  let version = -1;
  const refresh = async (): Promise<boolean> => {
    const { rows } = await db.pool.query<{ doc: string; version: number }>(`select doc, version from ${table} where name = $1 and version <> $2`, [name, version]);
    const row = rows[0];
    if (!row) return false;
    data = JSON.parse(row.doc) as T;
    version = row.version;
    return true;
  };
  await refresh();
  return {
    get data() {
      return data;
    },
    refresh,
    async change(edit) {
      const { result, current, next } = await inTransaction(db, async (client) => {
        const { rows } = await client.query<{ doc: string; version: number }>(`select doc, version from ${table} where name = $1 for update`, [name]);
        const current = JSON.parse((rows[0] as { doc: string }).doc) as T;
        const result = edit(current);
        const next = (rows[0] as { version: number }).version + 1;
        await client.query(`update ${table} set doc = $2, version = $3 where name = $1`, [name, JSON.stringify(current), next]);
        return { result, current, next };
      });
      data = current;
      version = next;
      return result;
    },
  };
}
