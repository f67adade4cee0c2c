import { WrongExpectedRevisionError, type EventStore } from '../ports/eventStore.ts';
import { decodeEvent, encodeEvent } from '../codec/events.ts';
import type { HeraldEvent } from '../domain/events.ts';
import { foldCacheOf } from './foldCache.ts';

export interface Aggregate<S, C, E extends HeraldEvent> {
  initial: () => S;
  evolve: (state: S, event: E) => S;
  decide: (command: C, state: S, now: string) => E[];
}

export interface Loaded<S> {
  state: S;
  /** Last revision read, or 'no_stream'. */
  revision: number | 'no_stream';
}

export async function load<S, E extends HeraldEvent>(store: EventStore, stream: string, aggregate: Pick<Aggregate<S, never, E>, 'initial' | 'evolve'>): Promise<Loaded<S>> {
  const events = await store.readStream(stream);
  const last = events.at(-1);
  if (!last) return { state: aggregate.initial(), revision: 'no_stream' };
  const cache = foldCacheOf(store);
  const held = cache.get<S>(stream, aggregate.evolve, events);
  let state = held ? held.state : aggregate.initial();
  for (let i = held ? held.count : 0; i < events.length; i++) {
    const event = decodeEvent(events[i]!);
    if (event) state = aggregate.evolve(state, event as unknown as E);
  }
  if (held?.count !== events.length) cache.set(stream, { evolve: aggregate.evolve, count: events.length, lastId: last.id, state });
  return { state, revision: last.revision };
}

/**
 * Read the stream, fold, decide, append with the expected revision. A concurrent writer makes the
 * append fail with a conflict; the command is then decided again on the fresh state.
 */
export async function handle<S, C, E extends HeraldEvent>(
  store: EventStore,
  stream: string,
  aggregate: Aggregate<S, C, E>,
  command: C,
  context: { now: () => Date; metadata?: Record<string, unknown>; known?: Loaded<S> },
  attempts = 5,
): Promise<{ events: E[]; state: S }> {
  for (let attempt = 1; ; attempt++) {
    // A caller that has just read the stream passes what it read; a conflict means a fresh read.
    const { state, revision } = attempt === 1 && context.known ? context.known : await load(store, stream, aggregate);
    const events = aggregate.decide(command, state, context.now().toISOString());
    if (events.length === 0) return { events, state };
    try {
      await store.append(stream, events.map((e) => encodeEvent(e, context.metadata)), revision);
      return { events, state: events.reduce(aggregate.evolve, state) };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError) || attempt >= attempts) throw error;
    }
  }
}
