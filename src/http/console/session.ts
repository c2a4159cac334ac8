// Console sessions: an API key, given once at sign-in, becomes a random session token in an
// HttpOnly, SameSite=Strict cookie; the key itself is never kept. Each page looks the key up by
// its id, so a revoked key ends its sessions at once. On one machine sessions live in memory (a
// restart signs everyone out, which is the safe direction); replicas share them in the database,
// so a user is not signed out by the load balancer's choice, and a sign-out holds on all.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { Caller } from '../../audit/types.js';
import { memoryState, type SharedState } from '../../small-state.js';

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

/** Sessions by the hash of their token. */
export interface SessionDoc {
  sessions: Record<string, Session>;
}

export class ConsoleSessions {
  constructor(
    private readonly active: (keyId: string) => Caller | undefined,
    readonly seconds = SESSION_SECONDS,
    private readonly state: SharedState<SessionDoc> = memoryState<SessionDoc>({ sessions: {} }),
  ) {}

  async start(caller: Caller, now: number): Promise<{ token: string; session: Session }> {
    const token = randomBytes(32).toString('base64url');
    const session = { keyId: caller.keyId, csrf: randomBytes(32).toString('base64url'), expires: now + this.seconds * 1000 };
    await this.state.change((d) => {
      // expired ones go; past MAX_SESSIONS the oldest go too, so a flood of sign-ins cannot grow it
      const kept = Object.entries(d.sessions).filter(([, x]) => x.expires > now);
      kept.sort(([, x], [, y]) => x.expires - y.expires);
      d.sessions = Object.fromEntries(kept.slice(Math.max(0, kept.length - MAX_SESSIONS + 1)));
      d.sessions[hashOf(token)] = session;
    });
    return { token, session };
  }

  /** The session and its caller for a cookie's token, while both are valid. */
  async find(token: string | undefined, now: number): Promise<{ session: Session; caller: Caller } | undefined> {
    if (!token) return undefined;
    const key = hashOf(token);
    // one signed in on another replica since this one last looked: look again
    if (!Object.hasOwn(this.state.data.sessions, key)) await this.state.refresh();
    const session = Object.hasOwn(this.state.data.sessions, key) ? this.state.data.sessions[key] : undefined;
    if (!session) return undefined;
    const caller = this.active(session.keyId);
    if (!caller || session.expires <= now) {
      // ended for good: a clock that steps back, or a key that is restored, does not bring it back
      await this.state.change((d) => void delete d.sessions[key]);
      return undefined;
    }
    return { session, caller };
  }

  async end(token: string | undefined): Promise<void> {
    if (token) await this.state.change((d) => void delete d.sessions[hashOf(token)]);
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
