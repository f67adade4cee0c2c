/**
 * A projection's documents held in memory between reads and a commit: loaded from the store in
 * one `getMany` per round, evolved by `evolveDocs`, and written back as one list of changes.
 * The live projector uses a fresh one per batch (the store is the truth between batches); replay
 * keeps one for the whole build, because a build collection holds only what the build wrote.
 */
import type { DocChange, ReadModelStore } from '../ports/readModelStore.ts';
import type { Recorded } from '../domain/events.ts';
import type { Projection } from '../projections/projection.ts';
import { ABSENT, evolveDocs, type DocState } from './evolveDocs.ts';
import { ProjectionFault } from './projectionFault.ts';

export interface Keyed {
  event: Recorded;
  key: string;
}

/** Beyond this many evicted ids replay stops remembering them and asks the store on every miss. */
const MAX_REMEMBERED_EVICTIONS = 1_000_000;

export class DocCache {
  /**
   * In first-loaded order. Writes do not move a document to the end: deleting and re-adding the
   * same few hot ids (analytics buckets) on every event leaves long chains of holes in a V8 Map.
   */
  private readonly docs = new Map<string, DocState>();
  private readonly dirty = new Set<string>();
  /** Documents written after this position are spared by the next eviction (second chance): about LRU. */
  private lastEviction = 0;
  /** Ids that may be in the store though not here: every id ('all'), or the ones evicted. */
  private stored: 'all' | Set<string>;

  constructor(
    private readonly readModels: Pick<ReadModelStore, 'getMany'>,
    private readonly projection: Projection,
    readonly collection: string,
    /** Whether the store may already hold documents: false only for an empty build collection. */
    storeMayHoldDocs: boolean,
  ) {
    this.stored = storeMayHoldDocs ? 'all' : new Set();
  }

  private lookup = (id: string): DocState | undefined => {
    const found = this.docs.get(id);
    if (found) return found;
    return this.stored === 'all' || this.stored.has(id) ? undefined : ABSENT;
  };

  /** Reads in one round trip the documents of `ids` that are neither here nor known to be absent. */
  private async load(ids: Iterable<string>): Promise<void> {
    const wanted = new Set<string>();
    for (const id of ids) if (!this.lookup(id)) wanted.add(id);
    if (wanted.size === 0) return;
    const found = await this.readModels.getMany(this.collection, [...wanted]);
    for (const id of wanted) {
      const stored = found.get(id);
      this.docs.set(id, stored ? { position: stored.position, doc: stored.doc } : ABSENT);
      if (this.stored !== 'all') this.stored.delete(id);
    }
  }

  /** Applies the events in order, loading main documents up front and fan-out documents as found. */
  async apply(items: readonly Keyed[]): Promise<void> {
    await this.load(items.map((i) => i.key));
    let next = 0;
    while (next < items.length) {
      const missing = this.applyFrom(items, next);
      if (missing.at === items.length) return;
      await this.load(missing.ids);
      next = missing.at;
    }
  }

  /** Applies events from `start` until one needs a document not loaded yet; returns where it stopped. */
  private applyFrom(items: readonly Keyed[], start: number): { at: number; ids: readonly string[] } {
    for (let i = start; i < items.length; i += 1) {
      const { event, key } = items[i]!;
      let evolved: ReturnType<typeof evolveDocs>;
      try {
        evolved = evolveDocs(this.projection, event, key, this.lookup);
      } catch (error) {
        throw new ProjectionFault(this.projection.name, event, error);
      }
      if (evolved.missing) return { at: i, ids: evolved.missing };
      for (const [id, state] of evolved.writes) {
        this.docs.set(id, state);
        this.dirty.add(id);
      }
    }
    return { at: items.length, ids: [] };
  }

  /** The documents written since the last call, as changes for `ReadModelStore.commit`. */
  takeChanges(): DocChange[] {
    const changes: DocChange[] = [];
    for (const id of this.dirty) {
      const { position, doc } = this.docs.get(id)!;
      changes.push({ collection: this.collection, id, doc, position });
    }
    this.dirty.clear();
    return changes;
  }

  /**
   * Drops clean documents until at most `max` remain: first those not written since the last
   * call, oldest first, then (when nearly all were) any clean ones, so memory stays bounded.
   * `position`: how far the log has been applied now.
   */
  evict(max: number, position: number): void {
    for (const spareRecent of [true, false]) {
      for (const [id, state] of this.docs) {
        if (this.docs.size <= max) break;
        if (this.dirty.has(id) || (spareRecent && state.position > this.lastEviction)) continue;
        this.drop(id, state);
      }
    }
    this.lastEviction = position;
  }

  private drop(id: string, state: DocState): void {
    this.docs.delete(id);
    // A document known to be absent was never written: the store has nothing to give back.
    if (this.stored === 'all' || state === ABSENT) return;
    this.stored.add(id);
    if (this.stored.size > MAX_REMEMBERED_EVICTIONS) this.stored = 'all';
  }
}
