// Every error is application/problem+json (RFC 9457) with a list of `errors`. No stack traces,
// file paths or library names reach a caller.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface ProblemError {
  readonly path: string;
  readonly message: string;
}

/** A problem's JSON text, for answers made with Hono and for those written to a socket. */
export const problemText = (status: number, title: string, errors: readonly ProblemError[] = []): string => JSON.stringify({ type: 'about:blank', title, status, errors });

export function problem(c: Context, status: ContentfulStatusCode, title: string, errors: readonly ProblemError[] = [], headers: Record<string, string> = {}): Response {
  return c.body(problemText(status, title, errors), status, { 'content-type': 'application/problem+json', ...headers });
}
