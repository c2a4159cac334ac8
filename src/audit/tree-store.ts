// The Merkle tree's hashes on disk: one file that grows by the hash of each new leaf and of the
// subtrees it completes (storedIndex()), about two hashes a leaf. An append costs the same at any
// size; the newest hashes, which every receipt needs, are also kept in memory.
//
// The file is derived data: every hash in it can be recomputed from the log's entries, so it is
// written without fsync on the hot path and synced with each checkpoint of the manifest
// (sync()); after a crash the log truncates it to the size last synced and adds the entries
// after that again (SegmentLog.open).
import { closeSync, fdatasync, ftruncateSync, fstatSync, openSync, readSync, write } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE } from '../small-state.js';
import { CompactRange, consistencyProof, inclusionProof, storedCount, storedIndex, subtreeHash, type NodeSource } from './merkle.js';

const HASH = 32;
/** hashes kept in memory: the last 2^17 (4 MiB), which cover the proofs of the last ~65,000 entries */
const CACHED = 1 << 17;
/**
 * Hashes are written in chunks of this many (64 KiB), not with each group commit: every write is a
 * trip to libuv's thread pool, whose wake-up cost the service's one thread ~10 % of its decisions
 * a second when each group commit made one (measured).
 */
const CHUNK = 2048;

export class TreeStore {
  private readonly ring = Buffer.alloc(CACHED * HASH);
  private stored: number;
  /** hashes before this are on disk (written, maybe not yet synced) */
  private written: number;
  private writing = false;
  /** callers waiting for everything to be written (sync, close, room): chunks of any size go */
  private draining = 0;
  private failure: Error | undefined;

  private constructor(
    private readonly fd: number,
    private range: CompactRange,
  ) {
    this.stored = storedCount(range.count);
    this.written = this.stored;
  }

  /**
   * Opens the store in `dir` at `leaves` leaves (the size last synced), cutting off anything
   * after it. When the file holds fewer, it starts again from nothing: the log adds its entries.
   */
  static open(dir: string, leaves: number): TreeStore {
    const fd = openSync(join(dir, 'tree.hashes'), 'a+', PRIVATE_FILE);
    closeSync(fd);
    const rw = openSync(join(dir, 'tree.hashes'), 'r+');
    const inFile = Math.floor(fstatSync(rw).size / HASH);
    const size = inFile >= storedCount(leaves) ? leaves : 0;
    ftruncateSync(rw, storedCount(size) * HASH);
    const read: NodeSource = (level, index) => readHash(rw, storedIndex(level, index));
    const hashes: Buffer[] = [];
    // the complete subtrees of the prefix, largest first
    let lo = 0;
    for (let level = 52; level >= 0; level--) {
      if (lo + 2 ** level <= size) {
        hashes.push(read(level, lo / 2 ** level));
        lo += 2 ** level;
      }
    }
    const store = new TreeStore(rw, CompactRange.of(size, hashes));
    const from = Math.max(0, store.stored - CACHED);
    for (let i = from; i < store.stored; i++) readHash(rw, i).copy(store.ring, (i % CACHED) * HASH);
    return store;
  }

  get count(): number {
    return this.range.count;
  }

  /** false once a write of the file failed: proofs of older entries could no longer be read */
  healthy(): boolean {
    return this.failure === undefined;
  }

  /**
   * Resolves once `leaves` more leaves can be added without overwriting hashes in memory that are
   * not yet in the file: the file follows appends, and a long stall of the disk could let it fall
   * a whole cache behind.
   */
  async room(leaves: number): Promise<void> {
    if (this.stored + 2 * leaves + 64 - this.written > CACHED) await this.drained(() => this.stored + 2 * leaves + 64 - this.written <= CACHED, 1);
  }

  /** Writes whatever is pending until `done`, polling every `ms`. */
  private async drained(done: () => boolean, ms: number): Promise<void> {
    this.draining++;
    try {
      while (!done()) {
        if (this.failure) throw this.failure;
        if (!this.writing) this.writeBehind();
        await new Promise((r) => setTimeout(r, ms));
      }
    } finally {
      this.draining--;
    }
  }

  /** Adds leaves (their RFC 9162 leaf hashes); the file follows in the background. room() first. */
  append(leaves: readonly Buffer[]): void {
    for (const leaf of leaves) {
      this.range.push(leaf, (_level, _index, hash) => {
        // TypedArray#set, not Buffer#copy: the same bytes, without Buffer's argument checks (~0.4 µs a hash)
        this.ring.set(hash, (this.stored % CACHED) * HASH);
        this.stored++;
      });
    }
    if (!this.writing && this.stored - this.written >= CHUNK) this.writeBehind();
  }

  private writeBehind(): void {
    if (this.written === this.stored || this.failure) return;
    const from = this.written;
    const to = Math.min(this.stored, from + CACHED - (from % CACHED));
    // INVARIANT: `from` is still in the ring: at most CACHED hashes are unwritten (append() holds it).
    const bytes = Buffer.from(this.ring.subarray((from % CACHED) * HASH, (((to - 1) % CACHED) + 1) * HASH));
    this.writing = true;
    write(this.fd, bytes, 0, bytes.length, from * HASH, (e, n) => {
      this.writing = false;
      if (e || n !== bytes.length) {
        this.failure = e ?? new Error(`short write of the tree: ${n} of ${bytes.length} bytes`);
        return;
      }
      this.written = Math.min(to, this.stored);
      if (this.draining > 0 || this.stored - this.written >= CHUNK) this.writeBehind();
    });
  }

  /** The hash of a complete subtree of the current tree. */
  readonly node: NodeSource = (level, index) => {
    const i = storedIndex(level, index);
    if (i >= this.stored) throw new Error(`the subtree ${level}/${index} is not complete`);
    if (i >= this.stored - CACHED) return this.ring.subarray((i % CACHED) * HASH, (i % CACHED + 1) * HASH);
    if (i >= this.written) throw new Error('the tree file is behind');
    return readHash(this.fd, i);
  };

  root(): Buffer {
    return this.range.root();
  }

  /** MTH of the first `size` leaves. */
  rootAt(size: number): Buffer {
    return size === this.count ? this.root() : subtreeHash(this.node, 0, size);
  }

  inclusion(index: number, size: number): Buffer[] {
    return inclusionProof(this.node, index, size);
  }

  consistency(from: number, to: number): Buffer[] {
    return consistencyProof(this.node, from, to);
  }

  /**
   * Forgets the leaves after the first `leaves`: the log failed to write them. Their hashes may
   * still reach the file; a later append overwrites them, and open() cuts the file to its size.
   */
  rollback(leaves: number): void {
    if (leaves >= this.count) return;
    this.range = CompactRange.of(leaves, this.prefix(leaves));
    this.stored = storedCount(leaves);
    this.written = Math.min(this.written, this.stored);
  }

  /** The compact range of the first `size` leaves: what a pruned log keeps of its prefix. */
  prefix(size: number): Buffer[] {
    const hashes: Buffer[] = [];
    let lo = 0;
    for (let level = 52; level >= 0; level--) {
      if (lo + 2 ** level <= size) {
        hashes.push(Buffer.from(this.node(level, lo / 2 ** level)));
        lo += 2 ** level;
      }
    }
    return hashes;
  }

  /** Makes what is written durable; resolves with the number of leaves it covers. */
  async sync(): Promise<number> {
    const leaves = this.count;
    const target = this.stored;
    await this.drained(() => this.written >= target, 5);
    await new Promise<void>((resolve, reject) => fdatasync(this.fd, (e) => (e ? reject(e) : resolve())));
    return leaves;
  }

  async close(): Promise<void> {
    await this.drained(() => this.written >= this.stored, 1).catch(() => undefined);
    closeSync(this.fd);
  }
}

function readHash(fd: number, i: number): Buffer {
  const b = Buffer.alloc(HASH);
  if (readSync(fd, b, 0, HASH, i * HASH) !== HASH) throw new Error(`the tree file ends before hash ${i}`);
  return b;
}
