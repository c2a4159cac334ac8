// The run's PostgreSQL database (made by global-setup.ts), and a fresh schema in it per log, so
// that tests running side by side never share a log.
import { createHash } from 'node:crypto';

/** The run's database; undefined when no server answered (the PostgreSQL tests are then skipped). */
export const PG_URL = process.env.COVENANT_TEST_PG_URL;

/** A schema name of its own for a test's place (a temporary folder, say): the same place, the same schema. */
export const schemaFor = (place: string): string => `t_${createHash('sha256').update(place).digest('hex').slice(0, 20)}`;
