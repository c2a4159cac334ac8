// One temporary folder per test run, removed at its end: the tests make real files (logs, keys,
// rule folders) in os.tmpdir(), and a run would otherwise leave some 16 MB of them behind.
// And one PostgreSQL database per run, dropped at its end, when a server answers at
// COVENANT_TEST_DATABASE_URL (or, unset, at the local default that .ci/run sets up).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_ADMIN_URL = 'postgres://covenant:covenant@127.0.0.1:5432/postgres';

export default async function setup(): Promise<() => Promise<void>> {
  const root = mkdtempSync(join(tmpdir(), 'covenant-tests-'));
  // Read by os.tmpdir() in the test workers and in the servers they start, which inherit it.
  process.env.TMPDIR = root;
  const dropDatabase = await testDatabase();
  return async () => {
    rmSync(root, { recursive: true, force: true });
    await dropDatabase();
  };
}

/**
 * Creates the run's database and says where it is (COVENANT_TEST_PG_URL). Without a server, the
 * PostgreSQL tests are skipped, but only when no URL was given: a URL that was given must work.
 */
async function testDatabase(): Promise<() => Promise<void>> {
  const given = process.env.COVENANT_TEST_DATABASE_URL;
  const admin = new pg.Client({ connectionString: given ?? DEFAULT_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch (e) {
    if (given !== undefined) throw new Error(`COVENANT_TEST_DATABASE_URL: ${(e as Error).message}`, { cause: e });
    console.warn(`no PostgreSQL at ${DEFAULT_ADMIN_URL} (${(e as Error).message}): the PostgreSQL tests are skipped; .ci/run starts one`);
    return async () => undefined;
  }
  const name = `covenant_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`create database ${name} encoding 'UTF8' template template0`);
  await admin.end();
  const url = new URL(given ?? DEFAULT_ADMIN_URL);
  url.pathname = `/${name}`;
  process.env.COVENANT_TEST_PG_URL = url.toString();
  return async () => {
    const c = new pg.Client({ connectionString: given ?? DEFAULT_ADMIN_URL });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  };
}
