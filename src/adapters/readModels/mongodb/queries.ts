/**
 * How the port's collections, indexes and queries map onto MongoDB documents of the shape
 * `{ _id: id, position, doc }`. Kept free of the driver so it can be read (and tested) alone.
 */
import { checkCollectionName, checkFieldName, indexSpec, type FieldValue, type FindQuery, type IndexDef } from '../../../ports/readModelStore.ts';

export function collectionName(name: string): string {
  // The prefix keeps read models apart from `checkpoints` and any other collection in the database.
  return `rm_${checkCollectionName(name)}`;
}

/** Document fields live under `doc`, so a field called `position` or `_id` cannot collide. */
export function fieldPath(name: string): string {
  return `doc.${checkFieldName(name)}`;
}

export type Direction = 1 | -1;

/**
 * Index keys for one entry of `CollectionSpec.indexes`. `_id` comes last so the index also
 * serves the `_id` tie-break of `querySort`: a page of one user's newest notifications is then an
 * index walk that stops at the limit instead of an in-memory sort of all of them.
 */
export function indexKeys(fields: readonly string[]): Record<string, Direction> {
  const keys: Record<string, Direction> = {};
  for (const f of fields) keys[fieldPath(f)] = 1;
  keys._id = 1;
  return keys;
}

/**
 * The index for one entry of `CollectionSpec.indexes`. A sparse one is a partial index on
 * documents that have the first field (a query with an equality or range on that field implies
 * it, so MongoDB uses the index for it), named apart from the full index on the same keys.
 */
export function indexDescription(def: IndexDef): { key: Record<string, Direction>; name?: string; partialFilterExpression?: Record<string, unknown> } {
  const index = indexSpec(def);
  const key = indexKeys(index.fields);
  if (!index.sparse) return { key };
  const name = `${Object.entries(key).map(([k, d]) => `${k}_${d}`).join('_')}_sparse`;
  return { key, name, partialFilterExpression: { [fieldPath(index.fields[0]!)]: { $exists: true } } };
}

/** Tombstones (doc null) keep their position for the write guard but are never read. */
export const LIVE = { doc: { $ne: null } } as const;

export function queryFilter(query: Pick<FindQuery, 'where' | 'range' | 'after' | 'orderBy'>): Record<string, unknown> {
  const filter: Record<string, unknown> = { ...LIVE };
  for (const [name, value] of Object.entries(query.where ?? {})) filter[fieldPath(name)] = value;
  if (query.range) {
    const bounds: Record<string, FieldValue> = {};
    if (query.range.gte !== undefined) bounds.$gte = query.range.gte;
    if (query.range.lte !== undefined) bounds.$lte = query.range.lte;
    const path = fieldPath(query.range.field);
    // A range on a field that `where` also pins keeps both conditions.
    filter[path] = path in filter ? { $eq: filter[path], ...bounds } : bounds;
  }
  if (query.after) {
    if (!query.orderBy) throw new Error('find: `after` needs `orderBy`');
    // Past the named document in querySort's order: a later value, or the same value and a later _id.
    const path = fieldPath(query.orderBy.field);
    const past = query.orderBy.direction === 'desc' ? '$lt' : '$gt';
    const { value, id } = query.after;
    filter.$or = [{ [path]: { [past]: value } }, { [path]: value, _id: { [past]: id } }];
  }
  return filter;
}

/**
 * Order by the requested field, ties broken by id in the same direction (an index can be walked
 * backwards, not half backwards). SQLite breaks ties by ascending id; the port leaves it open.
 */
export function querySort(query: Pick<FindQuery, 'orderBy'>): Record<string, Direction> {
  if (!query.orderBy) return { _id: 1 };
  const direction: Direction = query.orderBy.direction === 'desc' ? -1 : 1;
  return { [fieldPath(query.orderBy.field)]: direction, _id: direction };
}

/** Hides user names and passwords of a connection string in error messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)[^@/]*@/i, '$1***@');
}

/** The database named in the connection string's path, if any. */
export function databaseInUrl(url: string): string | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]+)/i.exec(url);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}
