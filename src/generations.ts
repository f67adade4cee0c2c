/**
 * A bounded map in two generations, for caches on hot paths: entries go into the recent
 * generation; once it is full it becomes the older one and the previous older one is dropped
 * whole. Evicting the oldest key one by one would be the obvious alternative, but a V8 Map keeps
 * deleted slots until it rehashes, so `keys().next()` after many deletions walks them all: that
 * scan grew with every event (4 s over a 206k-event replay, against 0.13 s this way).
 *
 * A generation is full at `perGeneration` entries, or when the entries' total weight (`weigh`,
 * e.g. events held) would pass `weightPerGeneration`.
 */
export class Generations<K, V> {
  private recent = new Map<K, V>();
  private older = new Map<K, V>();
  private recentWeight = 0;

  constructor(
    private readonly perGeneration: number,
    private readonly weightPerGeneration = Infinity,
    private readonly weigh: (value: V) => number = () => 0,
  ) {}

  /** The entry, moved to the recent generation when it was found in the older one. */
  get(key: K): V | undefined {
    const held = this.recent.get(key);
    if (held !== undefined) return held;
    const old = this.older.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: K, value: V): void {
    const weight = this.weigh(value);
    // An entry replaced in the recent generation gives its weight back: a stream read again after
    // each new event (a rate window) must not count all its events again every time, or the
    // generations turn over on every few reads and nothing stays held.
    const replaced = this.recent.get(key);
    const others = this.recentWeight - (replaced === undefined ? 0 : this.weigh(replaced));
    if ((this.recent.size >= this.perGeneration && replaced === undefined) || others + weight > this.weightPerGeneration) {
      this.older = this.recent;
      this.recent = new Map();
      this.recentWeight = 0;
    } else {
      this.recentWeight = others;
    }
    this.recent.set(key, value);
    this.recentWeight += weight;
  }
}
