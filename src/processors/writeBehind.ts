/**
 * A build pass's last flush while it is being written (see buildPass.ts): the pass goes on
 * computing meanwhile, so a store that commits on another thread or server works beside it. At
 * most one flush is in flight. A document the pass reads back meanwhile (one its cache evicted)
 * comes from that flush's changes, or else from the store, where every earlier flush is written:
 * reads never wait for the writes.
 */
import type { DocChange, ReadModelStore, StoredDoc } from '../ports/readModelStore.ts';

export interface FlushedBuild {
  collection: string;
  changes: readonly DocChange[];
  checkpoint: { name: string; position: number };
}

export class WriteBehind {
  private writing: Promise<void> = Promise.resolve();
  /** The changes in flight by collection, and those indexed by id once a read needs them. */
  private pending = new Map<string, readonly DocChange[]>();
  private readonly indexed = new Map<string, Map<string, DocChange>>();

  constructor(private readonly store: ReadModelStore) {}

  /** Waits until the flush in flight is written; throws its error. */
  async settled(): Promise<void> {
    await this.writing;
  }

  /** Starts writing a flush; the one before must be settled. Its error is thrown by the next `settled`. */
  start(flush: readonly FlushedBuild[]): void {
    const pending = new Map(flush.map((b) => [b.collection, b.changes]));
    this.pending = pending;
    this.indexed.clear();
    const written = Promise.all(flush.map((b) => this.store.commit(b.changes, b.checkpoint))).then(() => {
      if (this.pending === pending) {
        this.pending = new Map();
        this.indexed.clear();
      }
    });
    written.catch(() => undefined);
    this.writing = written;
  }

  /** What `ReadModelStore.getMany` answers once the flush in flight is written. */
  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, StoredDoc>> {
    const changes = this.pending.get(collection);
    if (!changes) return this.store.getMany(collection, ids);
    let byId = this.indexed.get(collection);
    if (!byId) {
      byId = new Map(changes.map((c) => [c.id, c]));
      this.indexed.set(collection, byId);
    }
    const inFlight = new Map<string, StoredDoc | null>();
    const rest: string[] = [];
    for (const id of ids) {
      const change = byId.get(id);
      if (!change) rest.push(id);
      // A deleted document is not found, as getMany leaves tombstones out.
      else inFlight.set(id, change.doc === null ? null : { id, position: change.position, doc: change.doc });
    }
    const stored = rest.length > 0 ? await this.store.getMany(collection, rest) : new Map<string, StoredDoc>();
    // In the order asked, as getMany answers.
    const found = new Map<string, StoredDoc>();
    for (const id of ids) {
      const doc = inFlight.has(id) ? inFlight.get(id) : stored.get(id);
      if (doc) found.set(id, doc);
    }
    return found;
  }
}
