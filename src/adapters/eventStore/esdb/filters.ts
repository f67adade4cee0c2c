import { dataMatches, type EventFilter, type JsonObject } from '../../../ports/eventStore.ts';

/**
 * What EventStoreDB can filter on the server: one expression, on stream names OR on event types,
 * never both, and nothing in the data. The port allows all three at once, so the server gets the
 * more selective of the first two (stream prefixes) and `matches` applies the whole filter
 * exactly on the client.
 */
export type ServerFilter = { on: 'stream' | 'type'; prefixes: string[] } | undefined;

export function serverFilter(filter: EventFilter | undefined): ServerFilter {
  const prefixes = filter?.streamPrefixes ?? [];
  if (prefixes.length > 0) return { on: 'stream', prefixes: [...prefixes] };
  // Type names as prefixes over-select ('Sent' also matches 'SentLate'); `matches` makes it exact.
  const types = filter?.eventTypes ?? [];
  if (types.length > 0) return { on: 'type', prefixes: [...types] };
  return undefined;
}

/**
 * The port's filter, applied exactly. System events ($-prefixed types: links, stream metadata,
 * persistent subscription checkpoints, statistics) are never application events, so they never
 * match: the embedded store has none, and consumers must not see ESDB's.
 */
export function matches(filter: EventFilter | undefined, e: { streamName: string; type: string; data: JsonObject }): boolean {
  if (e.type.startsWith('$')) return false;
  const types = filter?.eventTypes ?? [];
  if (types.length > 0 && !types.includes(e.type)) return false;
  const prefixes = filter?.streamPrefixes ?? [];
  if (prefixes.length > 0 && !prefixes.some((p) => e.streamName.startsWith(p))) return false;
  // The server cannot look into data: it is always filtered here.
  return dataMatches(filter?.dataMatches, e.data);
}
