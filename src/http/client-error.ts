// Requests that Node's HTTP parser refuses before any route sees them (headers too large, text
// that is not HTTP/1.1, a request that took too long) are answered as every other error is: a
// problem (CONTRACT 3), written to the socket, since there is no request or response object.
import type { Duplex } from 'node:stream';
import { problemText } from './problem.js';

const REFUSED: Readonly<Record<string, readonly [number, string, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'the request headers are larger than the server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request did not arrive in time'],
};
const MALFORMED = [400, 'Bad Request', 'the request is not valid HTTP/1.1'] as const;

/** A `clientError` listener for the HTTP server. */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // A connection the client reset, or one already answered, has no one left to answer.
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, message] = REFUSED[err.code ?? ''] ?? MALFORMED;
  const body = problemText(status, reason.toLowerCase(), [{ path: '', message }]);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
