// A bounded memo keyed by a sequence of ids and counts, kept as a trie of Maps: a lookup hashes
// each id once and V8 keeps a string's hash, where joining them into one key would make a new
// string, and hash it, on every call. When full it starts over rather than grow, so hostile
// variety in requests cannot grow memory without limit.

export type MemoKey = readonly (string | number)[];

export class Memo<T> {
  private root = new Map<string | number, unknown>();
  private size = 0;

  constructor(private readonly limit: number) {}

  /**
   * The value for `key`, computed on a miss. INVARIANT: no key the memo is given is a proper
   * prefix of another (fixed arity, or counts that say how many ids follow).
   */
  get(key: MemoKey, compute: () => T): T {
    if (this.size >= this.limit) {
      this.root = new Map();
      this.size = 0;
    }
    let node = this.root;
    const last = key.length - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(key[i] as string | number) as Map<string | number, unknown> | undefined;
      if (next === undefined) node.set(key[i] as string | number, (next = new Map()));
      node = next;
    }
    let value = node.get(key[last] as string | number) as T | undefined;
    if (value === undefined) {
      value = compute();
      node.set(key[last] as string | number, value);
      this.size++;
    }
    return value;
  }
}
