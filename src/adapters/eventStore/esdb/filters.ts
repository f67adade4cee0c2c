import type { EventFilter } from '../../../ports/eventFilter.ts';

/**
 * What EventStoreDB can filter on the server: one expression, on stream names OR on event types,
 * never both, and nothing in the data. The port allows all three at once, so the server gets the
 * more selective of the first two (stream prefixes) and `matchesFilter` (the port's) applies
 * the whole filter exactly on the client.
 */
export type ServerFilter = { on: 'stream' | 'type'; prefixes: string[] } | undefined;

export function serverFilter(filter: EventFilter | undefined): ServerFilter {
  const prefixes = filter?.streamPrefixes ?? [];
  if (prefixes.length > 0) return { on: 'stream', prefixes: [...prefixes] };
  // Type names as prefixes over-select ('Sent' also matches 'SentLate'); `matchesFilter` makes it exact.
  const types = filter?.eventTypes ?? [];
  if (types.length > 0) return { on: 'type', prefixes: [...types] };
  return undefined;
}
