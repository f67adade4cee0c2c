/**
 * A build pass's flushes while they are being written (see buildPass.ts, streamPass.ts): the pass
 * goes on computing meanwhile, so a store that commits on another thread or server works beside
 * it. At most `maxInFlight` flushes are in flight (a pass in log order keeps one; a pass stream by
 * stream several, so that a commit thread can write them together). A document the pass reads back
 * meanwhile (one its cache evicted) comes from the latest flush in flight that has it, or else
 * from the store, where every earlier flush is written: reads never wait for the writes.
 */
import type { DocChange, ReadModelStore, StoredDoc } from '../ports/readModelStore.ts';

export interface FlushedBuild {
  collection: string;
  changes: readonly DocChange[];
  checkpoint: { name: string; position: number };
  /** Written whatever the stored positions (CommitOptions.replace): a rebuild stream by stream. */
  replace?: boolean;
  /**
   * The changes a read may ask for while the flush is in flight, when not all of them: the others
   * are not kept here, so they are garbage once the store has taken them (a stream's documents,
   * which nothing reads back).
   */
  readBack?: readonly DocChange[];
}

interface Flight {
  written: Promise<void>;
  /** Its changes by collection, and those indexed by id once a read needs them. */
  changes: Map<string, readonly DocChange[]>;
  indexed: Map<string, Map<string, DocChange>>;
}

export class WriteBehind {
  /** Oldest first; each leaves once written. */
  private readonly flights: Flight[] = [];
  /** The first flush that failed: every later wait throws it. */
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly store: ReadModelStore,
    private readonly maxInFlight = 1,
  ) {}

  /** Waits until every flush in flight is written; throws a failed one's error. */
  async settled(): Promise<void> {
    await Promise.all(this.flights.map((f) => f.written));
    this.throwFailure();
  }

  /** Waits until another flush may start; throws a failed one's error. */
  async room(): Promise<void> {
    while (this.flights.length >= this.maxInFlight) await this.flights[0]!.written;
    this.throwFailure();
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Starts writing a flush; there must be room (`room`, or `settled` with one in flight). Its error is thrown by the next wait. */
  start(flush: readonly FlushedBuild[]): void {
    const flight: Flight = { written: Promise.resolve(), changes: new Map(flush.map((b) => [b.collection, b.readBack ?? b.changes])), indexed: new Map() };
    flight.written = Promise.all(flush.map((b) => this.store.commit(b.changes, b.checkpoint, b.replace ? { replace: true } : undefined)))
      .then(
        () => undefined,
        (error: unknown) => {
          this.failure ??= { error };
        },
      )
      .finally(() => {
        // Flights are written in order, so this is nearly always the first; no new array per flight.
        const at = this.flights.indexOf(flight);
        if (at >= 0) this.flights.splice(at, 1);
      });
    this.flights.push(flight);
  }

  /** What `ReadModelStore.getMany` answers once the flushes in flight are written. */
  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, StoredDoc>> {
    const flights = this.flights.filter((f) => f.changes.has(collection));
    if (flights.length === 0) return this.store.getMany(collection, ids);
    const inFlight = new Map<string, StoredDoc | null>();
    const rest: string[] = [];
    for (const id of ids) {
      let change: DocChange | undefined;
      for (let i = flights.length - 1; i >= 0 && !change; i -= 1) change = indexOf(flights[i]!, collection).get(id);
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

function indexOf(flight: Flight, collection: string): Map<string, DocChange> {
  let byId = flight.indexed.get(collection);
  if (!byId) {
    byId = new Map((flight.changes.get(collection) ?? []).map((c) => [c.id, c]));
    flight.indexed.set(collection, byId);
  }
  return byId;
}
