// /docs: interactive API documentation, Swagger UI over /openapi.json, served from the
// swagger-ui-dist package (no CDN). The page runs no inline script: the content security policy
// allows scripts from this origin only, and the UI's setup is a file of its own.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import type { AppDeps, Env } from '../deps.js';
import { logged } from '../middleware.js';

/**
 * Scripts and styles from this origin only; Swagger UI sets style attributes, so styles may be
 * inline. Requests go to this origin (`connect-src`), and nothing may frame the page.
 */
export const DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>covenant API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"><link rel="icon" type="image/png" href="/docs/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>
`;

// `Authorize` takes a key for the Bearer scheme; it stays in the page, never in a URL.
const INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: false, tryItOutEnabled: false });
});
`;

/** The package's files, read once: they do not change while the service runs. */
function assets(): { bundle: string; css: string; icon: Buffer } | undefined {
  try {
    const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
    return { bundle: readFileSync(join(dir, 'swagger-ui-bundle.js'), 'utf8'), css: readFileSync(join(dir, 'swagger-ui.css'), 'utf8'), icon: readFileSync(join(dir, 'favicon-32x32.png')) };
  } catch {
    return undefined;
  }
}

export function docsRoutes(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const files = assets();
  const headers = (type: string): Record<string, string> => ({ 'content-type': type, 'content-security-policy': DOCS_CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'public, max-age=3600' });
  const missing = (c: Parameters<Parameters<typeof logged>[1]>[0]): Response =>
    c.body('API documentation is not installed (the swagger-ui-dist package is missing); /openapi.json describes every route.\n', 404, { 'content-type': 'text/plain; charset=utf-8' });

  app.get('/docs', logged(deps, (c) => (files ? c.body(PAGE, 200, headers('text/html; charset=utf-8')) : missing(c))));
  app.get('/docs/init.js', logged(deps, (c) => c.body(INIT, 200, headers('text/javascript; charset=utf-8'))));
  app.get('/docs/swagger-ui-bundle.js', logged(deps, (c) => (files ? c.body(files.bundle, 200, headers('text/javascript; charset=utf-8')) : missing(c))));
  app.get('/docs/favicon-32x32.png', logged(deps, (c) => (files ? c.body(new Uint8Array(files.icon), 200, headers('image/png')) : missing(c))));
  app.get('/docs/swagger-ui.css', logged(deps, (c) => (files ? c.body(files.css, 200, headers('text/css; charset=utf-8')) : missing(c))));
  return app;
}
