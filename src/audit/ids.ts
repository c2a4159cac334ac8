// Entry ids: ULIDs, so ordered by time, that keep growing when the clock steps back.
import { getRandomValues } from 'node:crypto';
import { decodeTime, monotonicFactory } from 'ulid';

/** Makes ids above a floor: the time of the latest id the log is known to hold. */
export class IdSource {
  private readonly ids = monotonicFactory(pooledRandom());
  private floor = 0;

  constructor(lastId?: string) {
    if (lastId !== undefined) this.atLeast(lastId);
  }

  /** A new id, never at a time below that of an id the log holds. */
  next(now: number): string {
    return this.ids(Math.max(now, this.floor));
  }

  /** The log holds `id` (from this process or another): later ids come after its time. */
  atLeast(id: string): void {
    const t = decodeTime(id) + 1;
    if (t > this.floor) this.floor = t;
  }
}

/**
 * Random numbers for ids from a pool of cryptographic random bytes: ulid's default asks the
 * system for one byte per character, sixteen calls per id.
 */
function pooledRandom(): () => number {
  const pool = new Uint8Array(4096);
  let at = pool.length;
  return () => {
    if (at === pool.length) {
      getRandomValues(pool);
      at = 0;
    }
    return (pool[at++] as number) / 256;
  };
}
