// The reference for `npm run bench:http`: a bare Hono route that validates the same body with the
// same ajv schema and returns a constant. Listens on PORT.
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { validateRequestSchema } from '../src/schema/index.js';

const app = new Hono();
const constant = JSON.stringify({ decision: 'deny' });
app.get('/healthz', (c) => c.json({ status: 'ok' }));
app.post('/bare', async (c) => {
  const body: unknown = await c.req.json();
  if (validateRequestSchema(body).length > 0) return c.json({ error: 'malformed' }, 400);
  return c.body(constant, 200, { 'content-type': 'application/json' });
});
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
