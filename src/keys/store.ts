// API keys (CONTRACT 3): long random secrets, stored only as hashes, compared in constant time.
// Shared small state (a file, or a row of PostgreSQL for replicas); a running service re-reads it
// when it changes, which is how a revocation from `covenant keys revoke` or from another replica
// reaches it within seconds. Changes are made on what is stored then, with other writers held
// off: two `covenant keys` commands at once must not lose each other's key.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { openSharedFile, type SharedState } from '../small-state.js';
import type { Caller, Role } from '../audit/types.js';

export const ROLES: readonly Role[] = ['partner', 'privacy-officer', 'auditor', 'approver'];

export interface KeyRecord {
  readonly id: string;
  readonly name?: string;
  readonly role: Role;
  readonly partner?: string;
  /** who asks within the partner: a unit (a regional unit) and a function (screened staff) */
  readonly unit?: string;
  readonly function?: string;
  /** sha256 of the whole key; the key itself is never stored */
  readonly hash: string;
  readonly createdAt: string;
  revokedAt?: string;
}

export interface KeyFile {
  keys: KeyRecord[];
}

// The secret carries 256 bits of randomness, so a plain sha256 cannot be reversed or guessed;
// a slow password hash would only slow every request down.
// Hex, then bytes from Node's buffer pool: on Node 20 a digest returned as a Buffer costs twice as
// much (a fresh ArrayBuffer each time; measured 1.2 against 0.5 µs with the comparison), on every request.
const digest = (key: string): Buffer => Buffer.from(hash('sha256', key, 'hex'), 'hex');
const NO_HASH = Buffer.alloc(32);
const KEY = /^cov_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export class KeyStore {
  /** by key id, with the stored hash as bytes: what every request looks up */
  private byId = new Map<string, { record: KeyRecord; hash: Buffer; caller: Caller }>();

  private constructor(private readonly state: SharedState<KeyFile>) {
    this.reindex();
  }

  /** The keys in the JSON file at `path`. */
  static async open(path: string): Promise<KeyStore> {
    return new KeyStore(await openSharedFile<KeyFile>(path, { keys: [] }));
  }

  /** The keys in shared state elsewhere (PostgreSQL, for replicas). */
  static on(state: SharedState<KeyFile>): KeyStore {
    return new KeyStore(state);
  }

  /** Re-reads the keys if another process changed them. */
  async refresh(): Promise<void> {
    if (await this.state.refresh()) this.reindex();
  }

  private reindex(): void {
    // A record whose hash is not 32 bytes (a hand-edited file) cannot match any key.
    this.byId = new Map(
      this.state.data.keys
        .map((record) => [record.id, { record, hash: Buffer.from(record.hash, 'hex'), caller: callerOf(record) }] as const)
        .filter(([, k]) => k.hash.length === 32),
    );
  }

  async add(input: { role: Role; partner?: string; name?: string; unit?: string; function?: string }, now: Date): Promise<{ key: string; record: KeyRecord }> {
    const id = randomBytes(8).toString('hex');
    const key = `cov_${id}_${randomBytes(32).toString('base64url')}`;
    const record: KeyRecord = {
      id,
      role: input.role,
      ...(input.partner !== undefined && { partner: input.partner }),
      ...(input.name !== undefined && { name: input.name }),
      ...(input.unit !== undefined && { unit: input.unit }),
      ...(input.function !== undefined && { function: input.function }),
      hash: digest(key).toString('hex'),
      createdAt: now.toISOString(),
    };
    await this.change((keys) => keys.push(record));
    return { key, record };
  }

  list(): readonly KeyRecord[] {
    return this.state.data.keys;
  }

  async revoke(id: string, now: Date): Promise<boolean> {
    return this.change((keys) => {
      const record = keys.find((k) => k.id === id);
      if (record) record.revokedAt ??= now.toISOString();
      return record !== undefined;
    });
  }

  /** Changes the keys as they are stored now, with other writers held off. */
  private async change<T>(edit: (keys: KeyRecord[]) => T): Promise<T> {
    const result = await this.state.change((d) => edit(d.keys));
    this.reindex();
    return result;
  }

  /** The caller of a key by its id while the key is not revoked: a console session asks on every page. */
  active(keyId: string): Caller | undefined {
    const known = this.byId.get(keyId);
    return known && !known.record.revokedAt ? known.caller : undefined;
  }

  /** The caller a bearer key belongs to, or undefined for an unknown or revoked key. */
  authenticate(key: string): Caller | undefined {
    const m = KEY.exec(key);
    const known = m?.[1] === undefined ? undefined : this.byId.get(m[1]);
    const record = known?.record;
    // Hash and compare even when the id is unknown, so timing does not tell ids apart.
    const equal = timingSafeEqual(digest(key), known?.hash ?? NO_HASH);
    if (!record || !equal || record.revokedAt) return undefined;
    return known?.caller;
  }
}

/** One frozen caller per key, the same object on every request: the log serialises it once (chain.ts). */
const callerOf = (record: KeyRecord): Caller =>
  Object.freeze({
    keyId: record.id,
    role: record.role,
    ...(record.partner !== undefined && { partner: record.partner }),
    ...(record.unit !== undefined && { unit: record.unit }),
    ...(record.function !== undefined && { function: record.function }),
  });
