// Every error is application/problem+json (RFC 9457) with a list of `errors`. No stack traces,
// file paths or library names reach a caller.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface ProblemError {
  readonly path: string;
  readonly message: string;
}

export function problem(c: Context, status: ContentfulStatusCode, title: string, errors: readonly ProblemError[] = [], headers: Record<string, string> = {}): Response {
  const body = { type: 'about:blank', title, status, errors };
  return c.body(JSON.stringify(body), status, { 'content-type': 'application/problem+json', ...headers });
}
