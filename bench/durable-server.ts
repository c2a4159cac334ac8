// The baseline for the paced part of `npm run bench:http`: a route that does nothing but the
// durable write a decision waits for, and answers. With DATABASE_URL, a one-row insert committed
// with synchronous_commit on (as the PostgreSQL log commits a batch); without, an O_DSYNC append
// to a file (as the segment log writes). Group commit is what the log adds on top of either.
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { mkdtempSync, openSync, write, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const app = new Hono();
const url = process.env.DATABASE_URL;
let durable: (body: string) => Promise<void>;
if (url) {
  const pool = new pg.Pool({ connectionString: url, max: 16 });
  await pool.query('create table if not exists bench_baseline (id bigserial primary key, body text not null)');
  durable = async (body) => void (await pool.query('insert into bench_baseline (body) values ($1)', [body]));
} else {
  const fd = openSync(join(mkdtempSync(join(tmpdir(), 'covenant-baseline-')), 'append.ndjson'), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC);
  durable = (body) => new Promise((resolve, reject) => write(fd, `${body}\n`, (e) => (e ? reject(e) : resolve())));
}
app.get('/healthz', (c) => c.json({ status: 'ok' }));
app.post('/durable', async (c) => {
  await durable(await c.req.text());
  return c.json({ recorded: true });
});
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
