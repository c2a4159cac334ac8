// An open-loop client: requests go out evenly at a fixed rate, whether or not earlier ones have
// been answered, and each latency is measured from when the request was meant to be sent. So a
// stall of the service counts against every request it held up (no coordinated omission), and
// there are no bursts: autocannon's `overallRate` sends each connection's share of a second at
// full speed and then waits.
import { Pool } from 'undici';

export interface Paced {
  readonly sent: number;
  readonly ok: number;
  /** latencies in ms from the intended send time, sorted */
  readonly latencies: readonly number[];
  /** how far behind its schedule the client itself fell at most, ms: large means the client, not the service, was late */
  readonly lag: number;
}

export const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** POSTs `body` to `url` at `rate` a second for `seconds`, over up to `connections` connections. */
export async function paced(url: string, body: string, headers: Record<string, string>, rate: number, seconds: number, connections = 64): Promise<Paced> {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections, pipelining: 1, keepAliveTimeout: 10_000 });
  const latencies: number[] = [];
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  let ok = 0;
  let lag = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now() + 20;
  const send = (due: number): void => {
    inflight.push(
      pool
        .request({ path: u.pathname + u.search, method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } })
        .then(async (res) => {
          await res.body.dump();
          latencies.push(performance.now() - due);
          if (res.statusCode < 300) ok++;
        })
        .catch(() => undefined),
    );
  };
  // Each tick sends the requests that are due by then, never more: at rates above 1,000/s, a few
  // due within the same millisecond go out together, each timed from its own due time.
  for (let i = 0; i < total; ) {
    const now = performance.now();
    for (; i < total && start + i * interval <= now; i++) {
      lag = Math.max(lag, now - (start + i * interval));
      send(start + i * interval);
    }
    if (i < total) await new Promise((r) => setTimeout(r, Math.max(0, Math.min(1, start + i * interval - performance.now()))));
  }
  await Promise.all(inflight);
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { sent: total, ok, latencies, lag };
}
