import type { RecordedEvent } from '../ports/eventStore.ts';
import { Generations } from '../generations.ts';

/** Streams a generation holds; the streams not loaded during the last two generations are dropped. */
const STREAMS_PER_GENERATION = 10_000;

export interface Folded<S> {
  /** The evolve function the state was folded with: a cached state is reused only by the same aggregate. */
  evolve: unknown;
  /** How many of the stream's events are folded into `state`, and the id of the last (ids are unique per event). */
  count: number;
  lastId: string;
  state: S;
}

/**
 * Folded states of recently loaded streams, per event store. Every send loads its user's stream
 * (profile, devices, preferences) and its category's, and each load validated every event with
 * its schema and folded it again, a cost that grew with the user's history. Events never change
 * once written, so a state folded from a stream's first `count` events stays right for as long
 * as those are still the stream's first `count`; the last one's id says so (every event has its
 * own, on every store, so a stream deleted and written again does not match). Only the events
 * past `count` are decoded and folded. States are shared: callers treat them as immutable, as
 * the domain's pure functions do.
 */
export class FoldCache {
  private readonly folded: Generations<string, Folded<unknown>>;

  constructor(perGeneration = STREAMS_PER_GENERATION) {
    this.folded = new Generations(perGeneration);
  }

  /** What is held for `stream` that still starts `events`, folded by `evolve`; else undefined. */
  get<S>(stream: string, evolve: unknown, events: readonly RecordedEvent[]): Folded<S> | undefined {
    const held = this.folded.get(stream);
    if (!held || held.evolve !== evolve || held.count > events.length || events[held.count - 1]?.id !== held.lastId) return undefined;
    return held as Folded<S>;
  }

  set<S>(stream: string, folded: Folded<S>): void {
    this.folded.set(stream, folded);
  }
}

const caches = new WeakMap<object, FoldCache>();

/** The fold cache of one event store: a state is only ever reused with the store it was read from. */
export function foldCacheOf(store: object): FoldCache {
  let cache = caches.get(store);
  if (!cache) caches.set(store, (cache = new FoldCache()));
  return cache;
}
