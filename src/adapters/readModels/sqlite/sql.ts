/**
 * The SQL text of the embedded read models: table and column names from collection and field
 * names (checked, since they are spliced into statements), index definitions, and the WHERE
 * clauses of find and count.
 */
import type { JsonObject } from '../../../ports/eventStore.ts';
import { checkCollectionName, checkFieldName, type FieldValue, type FindQuery, type IndexSpec } from '../../../ports/readModelStore.ts';

export function table(name: string): string {
  return `rm_${checkCollectionName(name)}`;
}

export function field(name: string): string {
  return `json_extract(doc, '$.${checkFieldName(name)}')`;
}

/** The column that holds a stable index's field (see IndexSpec.stable). */
export function column(name: string): string {
  return `f_${checkFieldName(name)}`;
}

/** Fields a table keeps in columns of their own: queries on them use the column, and so its index. */
export type Columns = ReadonlySet<string>;
export const NO_COLUMNS: Columns = new Set();

export const fieldIn = (columns: Columns, name: string) => (columns.has(name) ? column(name) : field(name));

/** A field's value as json_extract reads it from the document: booleans as 1 or 0, objects as JSON text, absent as NULL. */
export function columnValue(doc: JsonObject | null, name: string): string | number | null {
  const value = doc?.[name];
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'object') return JSON.stringify(value);
  return value as string | number;
}

/** An index's columns and, for a sparse one, its WHERE: a document without the first field is not in it. */
export function indexSql(index: IndexSpec): string {
  const key = index.stable ? column : field;
  const columns = `(${index.fields.map(key).join(', ')})`;
  return index.sparse ? `${columns} WHERE ${key(index.fields[0]!)} IS NOT NULL` : columns;
}

const sqlValue = (v: FieldValue) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

/** ORDER BY for find: ties by id in the same direction, so `after` pages and both adapters agree. */
export function orderSql(query: Pick<FindQuery, 'orderBy'>, columns: Columns): string {
  if (!query.orderBy) return ' ORDER BY id';
  const direction = query.orderBy.direction === 'desc' ? 'DESC' : 'ASC';
  return ` ORDER BY ${fieldIn(columns, query.orderBy.field)} ${direction}, id ${direction}`;
}

/** The statement behind `count`: on indexed fields, answered from the index alone. */
export function countSql(collection: string, query: Pick<FindQuery, 'where' | 'range'>, columns: Columns = NO_COLUMNS): { sql: string; params: (string | number)[] } {
  const { sql, params } = whereSql(query, columns);
  return { sql: `SELECT COUNT(*) AS n FROM ${table(collection)}${sql}`, params };
}

/**
 * A condition on a field already leaves tombstones out (json_extract of a NULL doc is NULL, equal
 * to nothing and in no range), so `doc IS NOT NULL` is added only when there is none: with it, a
 * count had to read every matching row's document instead of counting entries of the index
 * (20,000 matches: 12 ms against 0.5 ms).
 */
export function whereSql(query: Pick<FindQuery, 'where' | 'range' | 'after' | 'orderBy'>, columns: Columns): { sql: string; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  for (const [name, value] of Object.entries(query.where ?? {})) {
    parts.push(`${fieldIn(columns, name)} = ?`);
    params.push(sqlValue(value));
  }
  if (query.range?.gte !== undefined) {
    parts.push(`${fieldIn(columns, query.range.field)} >= ?`);
    params.push(sqlValue(query.range.gte));
  }
  if (query.range?.lte !== undefined) {
    parts.push(`${fieldIn(columns, query.range.field)} <= ?`);
    params.push(sqlValue(query.range.lte));
  }
  if (query.after) {
    if (!query.orderBy) throw new Error('find: `after` needs `orderBy`');
    const f = fieldIn(columns, query.orderBy.field);
    const past = query.orderBy.direction === 'desc' ? '<' : '>';
    parts.push(`(${f} ${past} ? OR (${f} = ? AND id ${past} ?))`);
    params.push(sqlValue(query.after.value), sqlValue(query.after.value), query.after.id);
  }
  if (parts.length === 0) parts.push('doc IS NOT NULL');
  return { sql: ` WHERE ${parts.join(' AND ')}`, params };
}
