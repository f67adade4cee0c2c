import type { EventFilter, JsonObject, RecordedEvent } from '../../../ports/eventStore.ts';

export interface EventRow {
  position: number;
  id: string;
  stream: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  created: number;
}

export const EVENT_COLUMNS = 'position, id, stream, revision, type, data, metadata, created';

export function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    streamName: row.stream,
    revision: row.revision,
    position: row.position,
    type: row.type,
    data: JSON.parse(row.data) as JsonObject,
    metadata: JSON.parse(row.metadata) as JsonObject,
    created: row.created,
  };
}

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
  return { sql: parts.length > 0 ? ` AND ${parts.join(' AND ')}` : '', params };
}
