/**
 * A projection's documents held in memory between reads and a commit: loaded from the store in
 * one `getMany` per round, evolved by `evolveDocs`, and written back as one list of changes.
 * The live projector uses a fresh one per batch (the store is the truth between batches); replay
 * keeps one for the whole build, because a build collection holds only what the build wrote.
 */
import type { DocChange, ReadModelStore } from '../ports/readModelStore.ts';
import type { Recorded } from '../domain/events.ts';
import type { Projection } from '../projections/projection.ts';
import type { JsonObject } from '../ports/eventStore.ts';
import { evolveDocs, type DocSource, type DocState } from './evolveDocs.ts';
import { ProjectionFault } from './projectionFault.ts';

export interface Keyed {
  event: Recorded;
  key: string;
}

/** A document held here. Written in place, so a write costs no look-up and no new object. */
interface Held extends DocState {
  readonly id: string;
  /** Written since the last `takeChanges`: it is in `dirty`. */
  dirty: boolean;
}

/** A document no event has touched: what `lookup` gives for an id the store cannot hold. Never written in place. */
const ABSENT: Held = Object.freeze({ id: '', position: 0, doc: null, dirty: false });
/** In `docs`, an evicted id: the store has it. */
const EVICTED: Held = Object.freeze({ id: '', position: 0, doc: null, dirty: false });

/**
 * Beyond this many evicted ids replay stops remembering them and asks the store on every miss.
 * Asking costs little (one `getMany` per page for the ids not held, which on a fresh build finds
 * nearly nothing), remembering a lot: the 2,062,500-event log of 1M notifications replayed in the
 * same 25–26 s with 100,000 as with 1,000,000, at 780–810 MB RSS instead of 1,335–1,694 MB
 * (2026-11-27). The 206,250-event log (80,000 evictions per read model) stays under it.
 */
const MAX_REMEMBERED_EVICTIONS = 100_000;

export class DocCache implements DocSource {
  /**
   * The documents held, and (while `stored` is 'evicted') the ids evicted, as EVICTED: one map, so
   * that a document met for the first time costs one look-up, not one here and one in a set of
   * evicted ids (each a likely cache miss in tables of 10^4 to 10^5 entries).
   */
  private readonly docs = new Map<string, Held>();
  /** The documents held, in first-loaded order: what eviction goes through. */
  private held: Held[] = [];
  /** EVICTED entries in `docs`. */
  private evicted = 0;
  /** The documents written since the last `takeChanges`, in the order of their first write. */
  private dirty: Held[] = [];
  /** Documents written after this position are spared by the next eviction (second chance): about LRU. */
  private lastEviction = 0;
  /** Ids that may be in the store though not held here: every id ('all'), or the ones evicted. */
  private stored: 'all' | 'evicted';

  constructor(
    private readonly readModels: Pick<ReadModelStore, 'getMany'>,
    private readonly projection: Projection,
    readonly collection: string,
    /** Whether the store may already hold documents: false only for an empty build collection. */
    storeMayHoldDocs: boolean,
    private readonly maxRememberedEvictions = MAX_REMEMBERED_EVICTIONS,
  ) {
    this.stored = storeMayHoldDocs ? 'all' : 'evicted';
  }

  lookup(id: string): DocState | undefined {
    const found = this.docs.get(id);
    if (found) return found === EVICTED ? undefined : found;
    return this.stored === 'all' ? undefined : ABSENT;
  }

  write(id: string, state: DocState, position: number, doc: JsonObject | null): void {
    let held = state as Held;
    if (held === ABSENT) {
      held = { id, position, doc, dirty: false };
      this.docs.set(id, held);
      this.held.push(held);
    } else {
      held.position = position;
      held.doc = doc;
    }
    if (held.dirty) return;
    held.dirty = true;
    this.dirty.push(held);
  }

  /** Reads in one round trip the documents of `ids` that are neither here nor known to be absent. */
  async load(ids: Iterable<string>): Promise<void> {
    const wanted = new Set<string>();
    for (const id of ids) if (!this.lookup(id)) wanted.add(id);
    if (wanted.size === 0) return;
    const found = await this.readModels.getMany(this.collection, [...wanted]);
    for (const id of wanted) {
      const stored = found.get(id);
      const held: Held = stored ? { id, position: stored.position, doc: stored.doc, dirty: false } : { id, position: 0, doc: null, dirty: false };
      if (this.docs.get(id) === EVICTED) this.evicted -= 1;
      this.docs.set(id, held);
      this.held.push(held);
    }
  }

  /**
   * Applies the events in order. At the first document not held, every main document of the
   * events left is loaded with it, in the same round trip; fan-out documents are loaded as found.
   * Replay's cache nearly always holds them all, and then nothing is looked up twice.
   */
  async apply(items: readonly Keyed[]): Promise<void> {
    let next = 0;
    let loadedMain = false;
    for (;;) {
      const missing = this.applyFrom(items, next);
      if (!missing) return;
      const ids = loadedMain ? missing.ids : [...missing.ids, ...items.slice(missing.at).map((i) => i.key)];
      loadedMain = true;
      await this.load(ids);
      next = missing.at;
    }
  }

  /** Applies events from `start` until one needs a document not loaded yet; returns where it stopped, if it did. */
  private applyFrom(items: readonly Keyed[], start: number): { at: number; ids: readonly string[] } | undefined {
    for (let i = start; i < items.length; i += 1) {
      const { event, key } = items[i]!;
      let missing: readonly string[] | undefined;
      try {
        missing = evolveDocs(this.projection, event, key, this);
      } catch (error) {
        throw new ProjectionFault(this.projection.name, event, error);
      }
      if (missing) return { at: i, ids: missing };
    }
    return undefined;
  }

  /** The documents written since the last call, as changes for `ReadModelStore.commit`. */
  takeChanges(): DocChange[] {
    const changes = this.dirty.map(({ id, position, doc }): DocChange => ({ collection: this.collection, id, doc, position }));
    for (const held of this.dirty) held.dirty = false;
    this.dirty = [];
    return changes;
  }

  /**
   * Drops clean documents until at most `max` remain: first those not written since the last
   * call, oldest first, then (when nearly all were) any clean ones, so memory stays bounded.
   * `position`: how far the log has been applied now.
   */
  evict(max: number, position: number): void {
    for (const spareRecent of [true, false]) {
      let excess = this.held.length - max;
      if (excess <= 0) break;
      const kept: Held[] = [];
      for (const held of this.held) {
        if (excess > 0 && !held.dirty && !(spareRecent && held.position > this.lastEviction)) {
          this.drop(held);
          excess -= 1;
        } else kept.push(held);
      }
      this.held = kept;
    }
    this.lastEviction = position;
  }

  private drop(held: Held): void {
    // A document no event has touched was never written: the store has nothing to give back.
    if (this.stored === 'all' || held.position === 0) {
      this.docs.delete(held.id);
      return;
    }
    this.docs.set(held.id, EVICTED);
    this.evicted += 1;
    if (this.evicted <= this.maxRememberedEvictions) return;
    this.stored = 'all';
    for (const [id, entry] of this.docs) if (entry === EVICTED) this.docs.delete(id);
    this.evicted = 0;
  }
}
