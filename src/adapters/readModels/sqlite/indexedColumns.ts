import type Database from 'better-sqlite3';
import type { JsonObject } from '../../../ports/eventStore.ts';

const FIELD = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const PREFIX = 'f_';

/**
 * Indexed document fields live in columns of their own (`f_<field>`), beside the JSON document.
 * An index over `json_extract(doc, …)` is rewritten whenever `doc` changes, which for the
 * notification log was every update of every document, on a random leaf page for the per-user
 * index; a column is rewritten only when its value changes.
 */
export function column(field: string): string {
  if (!FIELD.test(field)) throw new Error(`invalid field name ${JSON.stringify(field)}`);
  return `${PREFIX}${field}`;
}

/** What `json_extract(doc, '$.<field>')` gives, so a column and the expression always agree. */
export function indexValue(doc: JsonObject | null, field: string): string | number | null {
  const value = doc?.[field];
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** The fields a table keeps in columns; undefined when there is no such table. */
export function indexedFields(db: Database.Database, table: string): string[] | undefined {
  const columns = db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all();
  if (columns.length === 0) return undefined;
  return columns.filter((c) => c.name.startsWith(PREFIX)).map((c) => c.name.slice(PREFIX.length));
}

/** Adds the missing columns and fills them from the documents already stored (a file from before columns). */
export function addColumns(db: Database.Database, table: string, fields: readonly string[]): void {
  const have = new Set(indexedFields(db, table) ?? []);
  const missing = fields.filter((f) => !have.has(f));
  if (missing.length === 0) return;
  db.transaction(() => {
    for (const f of missing) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column(f)}`);
    db.exec(`UPDATE ${table} SET ${missing.map((f) => `${column(f)} = json_extract(doc, '$.${f}')`).join(', ')}`);
  })();
}
