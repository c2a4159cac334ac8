// `covenant audit migrate`: a log folder's entries, keys, approvals and policy archive copied into
// an empty PostgreSQL database, byte for byte, so that every hash, receipt and witness's checkpoint
// stays valid; then the copy is verified against the folder.
import { CompactRange } from './merkle.js';
import { checkpointText, leafOfLine } from './log-tree.js';
import { COLUMNS, columnsOf, frontierText, tables, toClosedRow, type HeadRow } from './pg-rows.js';
import { inTransaction, type Database } from './pg-schema.js';
import type { NoteSigner } from './note.js';
import type { LogEntry } from './types.js';

/** rows a statement inserts: 15 parameters each, far below PostgreSQL's 65,535 */
const CHUNK = 1000;

/** Copies stored lines (from seq 1, in order) into the empty log of `db`; signs a checkpoint of the copy. */
export async function copyLines(db: Database, lines: AsyncIterable<string>, signer: NoteSigner): Promise<{ entries: number; hash?: string }> {
  const s = db.schema;
  return inTransaction(db, async (client) => {
    const head = (await client.query<HeadRow>(`select * from ${s}.log_head for update`)).rows[0];
    if (!head) throw new Error(`the log's head is missing from ${s}.log_head`);
    if (head.seq !== 0) throw new Error(`the database already holds a log of ${head.seq} entries: migrate copies into an empty one`);
    if (head.log_key !== null && head.log_key !== signer.verifierKey) throw new Error(`the database's log is pinned to the key ${head.log_key}, not this log's`);
    const range = CompactRange.empty();
    let rows: unknown[][] = [];
    let nodes: { level: number; index: number; hash: Buffer }[] = [];
    let last: LogEntry | undefined;
    let lastId = '';
    const flush = async (): Promise<void> => {
      if (rows.length > 0) {
        const width = COLUMNS.length;
        const values = rows.map((_, r) => `(${COLUMNS.map((_, c) => `$${r * width + c + 1}`).join(',')})`).join(',');
        await client.query(`insert into ${s}.log_entries (${COLUMNS.join(',')}) values ${values}`, rows.flat());
      }
      if (nodes.length > 0) {
        await client.query(`insert into ${s}.log_nodes (level, idx, hash) select * from unnest($1::smallint[], $2::bigint[], $3::bytea[])`, [
          nodes.map((n) => n.level),
          nodes.map((n) => n.index),
          nodes.map((n) => n.hash),
        ]);
      }
      rows = [];
      nodes = [];
    };
    for await (const line of lines) {
      const entry = JSON.parse(line) as LogEntry;
      const expected = (last?.seq ?? 0) + 1;
      if (entry.seq !== expected) throw new Error(`expected entry ${expected}, found ${entry.seq}: verify the folder first`);
      const leaf = leafOfLine(line);
      range.push(leaf, (level, index, hash) => {
        if (level > 0) nodes.push({ level, index, hash });
      });
      rows.push([...columnsOf(entry), line, leaf]);
      if (entry.id > lastId) lastId = entry.id;
      last = entry;
      if (rows.length === CHUNK) await flush();
    }
    await flush();
    const size = last?.seq ?? 0;
    const rootHash = range.root().toString('base64');
    const note = await signer.signNote(checkpointText(signer.name, size, rootHash));
    await client.query(
      `update ${s}.log_head set seq = $1, hash = $2, last_id = $3, frontier = $4, checkpoint_size = $1, checkpoint_root = $5, checkpoint_note = $6, log_key = $7`,
      [size, last?.hash ?? head.hash, lastId || null, frontierText(range), rootHash, note, signer.verifierKey],
    );
    // committed durably with the copy: readers show the entries at once (they show what log_flush covers)
    await client.query(toClosedRow(tables(s), '$1::bigint'), [size]);
    return { entries: size, ...(last && { hash: last.hash }) };
  });
}
