import { randomUUID } from 'node:crypto';
import type { EventData, ExpectedRevision, JsonObject, RecordedEvent } from '../../../ports/eventStore.ts';
import type { EventFilter } from '../../../ports/eventFilter.ts';

export const EVENT_COLUMNS = 'position, id, stream, revision, type, data, metadata, created';

/**
 * A row of EVENT_COLUMNS as a raw array (better-sqlite3's `raw` mode): the subscription reads
 * take their rows this way, because building an object per row costs more than the query
 * (0.38 s against 0.25 s for 206k events).
 */
export type EventTuple = [position: number, id: string, stream: string, revision: number, type: string, data: string, metadata: string, created: number];

/** One event from its row, data and metadata parsed. */
export function fromTuple(row: EventTuple): RecordedEvent {
  return {
    id: row[1],
    streamName: row[2],
    revision: row[3],
    position: row[0],
    type: row[4],
    data: JSON.parse(row[5]) as JsonObject,
    metadata: JSON.parse(row[6]) as JsonObject,
    created: row[7],
  };
}

const DATA_FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** SQL condition and parameters for a $all filter; prefixes use substr, so no LIKE escaping. */
export function filterSql(filter: EventFilter | undefined): { sql: string; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  const types = filter?.eventTypes ?? [];
  if (types.length > 0) {
    parts.push(`type IN (${types.map(() => '?').join(',')})`);
    params.push(...types);
  }
  const prefixes = filter?.streamPrefixes ?? [];
  if (prefixes.length > 0) {
    parts.push(`(${prefixes.map(() => 'substr(stream, 1, ?) = ?').join(' OR ')})`);
    for (const p of prefixes) params.push(p.length, p);
  }
  // json_each over a scalar yields that one value (key NULL), over an array its elements (integer
  // keys): equality or membership. An object's members (text keys) do not count, as in dataMatches.
  const matches = filter?.dataMatches ?? [];
  if (matches.length > 0) {
    parts.push(`(${matches.map(() => "EXISTS (SELECT 1 FROM json_each(data, ?) WHERE value = ? AND typeof(key) <> 'text')").join(' OR ')})`);
    for (const m of matches) {
      if (!DATA_FIELD.test(m.field)) throw new Error(`dataMatches: ${JSON.stringify(m.field)} is not a top-level field name`);
      params.push(`$.${m.field}`, m.value);
    }
  }
  return { sql: parts.length > 0 ? ` AND ${parts.join(' AND ')}` : '', params };
}

/** Events to append as the columns they are written to (an id made when the event has none). */
export function toRows(events: readonly EventData[]): EventRow[] {
  return events.map((e) => ({ id: e.id ?? randomUUID(), type: e.type, data: JSON.stringify(e.data), metadata: JSON.stringify(e.metadata ?? {}) }));
}

export interface EventRow {
  id: string;
  type: string;
  data: string;
  metadata: string;
}

/** Whether a stream at revision `current` (undefined: no stream) is what an append expects. */
export function revisionMatches(expected: ExpectedRevision, current: number | undefined): boolean {
  return (
    expected === 'any' ||
    (expected === 'no_stream' && current === undefined) ||
    (expected === 'stream_exists' && current !== undefined) ||
    (typeof expected === 'number' && current === expected)
  );
}
