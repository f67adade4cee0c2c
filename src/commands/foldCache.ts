import type { RecordedEvent } from '../ports/eventStore.ts';

/** Streams a generation holds; the streams not loaded during the last two generations are dropped. */
const STREAMS_PER_GENERATION = 10_000;

export interface Folded<S> {
  /** The evolve function the state was folded with: a cached state is reused only by the same aggregate. */
  evolve: unknown;
  /** How many of the stream's events are folded into `state`, and the global position of the last. */
  count: number;
  lastPosition: number;
  state: S;
}

/**
 * Folded states of recently loaded streams, per event store. Every send loads its user's stream
 * (profile, devices, preferences) and its category's, and each load validated every event with
 * its schema and folded it again: most of what a send allocated. Events never change once
 * written, so a state folded from a stream's first `count` events stays right for as long as
 * those events are the stream's first `count`; the last one's global position says so (a stream
 * deleted and written again has new positions). Only events past `count` are decoded and folded.
 * States are shared: callers treat them as immutable, as the domain's pure functions do.
 */
export class FoldCache {
  private recent = new Map<string, Folded<unknown>>();
  private older = new Map<string, Folded<unknown>>();

  constructor(private readonly perGeneration = STREAMS_PER_GENERATION) {}

  /** What is held for `stream` that still starts `events`, folded by `evolve`; else undefined. */
  get<S>(stream: string, evolve: unknown, events: readonly RecordedEvent[]): Folded<S> | undefined {
    let held = this.recent.get(stream);
    if (!held) {
      held = this.older.get(stream);
      if (held) this.set(stream, held);
    }
    if (!held || held.evolve !== evolve || held.count > events.length || events[held.count - 1]?.position !== held.lastPosition) return undefined;
    return held as Folded<S>;
  }

  set<S>(stream: string, folded: Folded<S>): void {
    if (this.recent.size >= this.perGeneration && !this.recent.has(stream)) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(stream, folded);
  }
}

const caches = new WeakMap<object, FoldCache>();

/** The fold cache of one event store (two stores may hold streams of the same name and positions). */
export function foldCacheOf(store: object): FoldCache {
  let cache = caches.get(store);
  if (!cache) caches.set(store, (cache = new FoldCache()));
  return cache;
}
