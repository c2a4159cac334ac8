// Console sessions: an API key, given once at sign-in, becomes a random session token in an
// HttpOnly, SameSite=Strict cookie; the key itself is never kept. Each page looks the key up by
// its id, so a revoked key ends its sessions at once. Sessions live in memory: a restart signs
// everyone out, which is the safe direction.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { Caller } from '../../audit/types.js';

export const SESSION_COOKIE = 'covenant_console';
/** A session's life from sign-in: a working day. */
export const SESSION_SECONDS = 8 * 3600;
/** Sessions kept at most; the oldest go first, so a flood of sign-ins cannot grow memory. */
const MAX_SESSIONS = 10_000;

export interface Session {
  readonly keyId: string;
  /** the form token every POST of this session must carry */
  readonly csrf: string;
  readonly expires: number;
}

export class ConsoleSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly active: (keyId: string) => Caller | undefined,
    readonly seconds = SESSION_SECONDS,
  ) {}

  start(caller: Caller, now: number): { token: string; session: Session } {
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const token = randomBytes(32).toString('base64url');
    const session = { keyId: caller.keyId, csrf: randomBytes(32).toString('base64url'), expires: now + this.seconds * 1000 };
    this.sessions.set(hashOf(token), session);
    return { token, session };
  }

  /** The session and its caller for a cookie's token, while both are valid. */
  find(token: string | undefined, now: number): { session: Session; caller: Caller } | undefined {
    if (!token) return undefined;
    const key = hashOf(token);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    const caller = this.active(session.keyId);
    if (!caller || session.expires <= now) {
      this.sessions.delete(key);
      return undefined;
    }
    return { session, caller };
  }

  end(token: string | undefined): void {
    if (token) this.sessions.delete(hashOf(token));
  }
}

/** Tokens are kept by their hash, so the map holds nothing a memory dump could sign in with. */
const hashOf = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** Compares a form's token with the session's in time that does not depend on where they differ. */
export function sameToken(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
