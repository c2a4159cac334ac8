// Per-key rate limits. A key whose requests keep being refused (malformed bodies, exchanges it is
// no party to) is slowed down first: every refusal is recorded, so refusals at full speed would
// fill the disk (36 GB an hour was measured). Optionally every request of a key is limited too.
//
// A limited request is answered 429 with Retry-After, and recorded in aggregate: one refusal entry
// per key and second says how many were refused since the last, so that no answer goes unrecorded
// and yet the log cannot be flooded with them.
import type { Caller, DecisionLog } from '../audit/types.js';

/** A token bucket per key: `perSecond` tokens a second, up to `burst`. */
export class Buckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {}

  private fill(key: string): { tokens: number; at: number } {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    this.buckets.set(key, b);
    return b;
  }

  /** Milliseconds until `key` may go on (0: now), without spending a token. */
  wait(key: string): number {
    const b = this.fill(key);
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) / this.perSecond) * 1000);
  }

  /** Spends a token of `key`; milliseconds until it may go on when there was none. */
  take(key: string): number {
    const b = this.fill(key);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.perSecond) * 1000);
  }
}

export interface ThrottleOptions {
  /** refusals a key may cause per second before its requests are answered 429 (0: no limit) */
  readonly refusalsPerSecond: number;
  /** requests a key may make per second (0: no limit) */
  readonly requestsPerSecond: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = { refusalsPerSecond: 20, requestsPerSecond: 0 };

/** The limits and the aggregate record of what they refused. */
export class Throttle {
  private readonly refusals: Buckets | undefined;
  private readonly requests: Buckets | undefined;
  /** per key: 429s answered and not yet recorded, and when the last record was made */
  private readonly pending = new Map<string, { caller: Caller; route: string; count: number; since: string; recordedAt: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    options: ThrottleOptions,
    private readonly log: Pick<DecisionLog, 'append' | 'newId'>,
    private readonly now: () => number,
  ) {
    this.refusals = options.refusalsPerSecond > 0 ? new Buckets(options.refusalsPerSecond, 2 * options.refusalsPerSecond, now) : undefined;
    this.requests = options.requestsPerSecond > 0 ? new Buckets(options.requestsPerSecond, 2 * options.requestsPerSecond, now) : undefined;
    this.timer = setInterval(() => void this.flush().catch(() => undefined), 1000);
    this.timer.unref();
  }

  /** Milliseconds the caller must wait before this request may be served; 0 when it may now. */
  admit(caller: Caller): number {
    const refused = this.refusals?.wait(caller.keyId) ?? 0;
    if (refused > 0) return refused;
    return this.requests?.take(caller.keyId) ?? 0;
  }

  /** A refusal of the caller's was recorded: it spends from its refusal allowance. */
  refused(caller: Caller): void {
    this.refusals?.take(caller.keyId);
  }

  /**
   * Counts a 429; the first of each second per key is recorded before it is answered (with the
   * count of those before it), the rest within a second by the timer. Rejects when the log cannot
   * record: then the answer is a 503, as for any refusal.
   */
  async limited(caller: Caller, route: string): Promise<void> {
    const t = this.now();
    const p = this.pending.get(caller.keyId) ?? { caller, route, count: 0, since: new Date(t).toISOString(), recordedAt: 0 };
    p.count++;
    this.pending.set(caller.keyId, p);
    if (t - p.recordedAt >= 1000) await this.record(caller.keyId);
  }

  private async record(keyId: string): Promise<void> {
    const p = this.pending.get(keyId);
    if (!p || p.count === 0) return;
    const t = this.now();
    const count = p.count;
    this.pending.set(keyId, { ...p, count: 0, since: new Date(t).toISOString(), recordedAt: t });
    await this.log.append({
      kind: 'refusal',
      id: this.log.newId(t),
      at: new Date(t).toISOString(),
      caller: p.caller,
      route: p.route,
      status: 429,
      errors: [{ path: '', message: `${count} request${count === 1 ? '' : 's'} since ${p.since} refused: rate limit` }],
    });
  }

  /** Records every count not yet recorded (each second, and at close). */
  async flush(): Promise<void> {
    for (const keyId of [...this.pending.keys()]) await this.record(keyId);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }
}
