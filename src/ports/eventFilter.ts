/**
 * Which events of $all a consumer sees, decided the same way by every event store: the embedded
 * store in SQL, EventStoreDB's adapter partly on the server and the rest here, in memory.
 */
import type { JsonObject } from './eventStore.ts';

/** Which events of $all a subscription sees: those that pass every part given. Nothing given: every event. */
export interface EventFilter {
  eventTypes?: readonly string[];
  streamPrefixes?: readonly string[];
  /**
   * Events whose data has `field` (a top-level name) equal to `value`, or an array there that
   * contains it; several entries pass an event that matches any of them. For consumers that want a
   * few of many events of one type (a route's deliveries): the embedded store filters in SQL, so the
   * others never reach the group; EventStoreDB, whose server filters only on types and streams,
   * filters on the client and acks the others itself.
   */
  dataMatches?: readonly DataMatch[];
}

export interface DataMatch {
  field: string;
  value: string;
}

/** Whether `data` passes `dataMatches` (none given: it does). The embedded store's SQL says the same. */
export function dataMatches(matches: readonly DataMatch[] | undefined, data: JsonObject): boolean {
  if (!matches || matches.length === 0) return true;
  return matches.some(({ field, value }) => {
    const found = data[field];
    return Array.isArray(found) ? found.includes(value) : found === value;
  });
}

/**
 * Whether an event passes a filter, exactly as the embedded store's SQL decides it: used where the
 * filter is applied in memory (the embedded store's log tail, EventStoreDB's client side, whose
 * server cannot look into data). System events are never application events, so they never
 * match: the embedded store has none, and consumers must not see EventStoreDB's. They are those
 * of $-prefixed types (links, stream metadata, persistent subscription checkpoints, statistics)
 * and any event in a $-prefixed stream, where ESDB also writes some under other types (its
 * persistent subscription settings, `PersistentConfig1` in `$persistentSubscriptionConfig`).
 */
export function matchesFilter(filter: EventFilter | undefined, e: { streamName: string; type: string; data: JsonObject }): boolean {
  if (isSystemEvent(e)) return false;
  const types = filter?.eventTypes ?? [];
  if (types.length > 0 && !types.includes(e.type)) return false;
  const prefixes = filter?.streamPrefixes ?? [];
  if (prefixes.length > 0 && !prefixes.some((p) => e.streamName.startsWith(p))) return false;
  return dataMatches(filter?.dataMatches, e.data);
}

/** One of the store's own events (see matchesFilter), never an application event. */
export function isSystemEvent(e: { streamName: string; type: string }): boolean {
  return e.type.startsWith('$') || e.streamName.startsWith('$');
}
