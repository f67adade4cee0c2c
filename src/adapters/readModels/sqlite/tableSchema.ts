/** A read model's table layout in the embedded store: its indexes and the columns of stable-index fields. */
import type Database from 'better-sqlite3';
import type { Logger } from '../../../ports/logger.ts';
import { indexSpec, type CollectionSpec } from '../../../ports/readModelStore.ts';
import { column, field, indexSql, table } from './sql.ts';

/** The fields table `t` keeps in columns of their own, read from its schema. */
export function fieldsInColumns(db: Database.Database, t: string): string[] {
  return db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${t}')`).all().flatMap((c) => (c.name.startsWith('f_') ? [c.name.slice(2)] : []));
}

/**
 * Creates a collection's table, or brings an existing one to `spec`: its indexes (made, or
 * dropped when no longer asked for) and the columns of its stable indexes' fields.
 * `deferIndexes`: none of its indexes yet (a bulk load builds them at the end).
 */
export function ensureTable(db: Database.Database, spec: CollectionSpec, deferIndexes: boolean, logger: Logger | undefined): void {
  const t = table(spec.name);
  const specs = spec.indexes.map(indexSpec);
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${t} (id TEXT PRIMARY KEY, position INTEGER NOT NULL, doc TEXT)`);
    const indexes = db.prepare<[], { name: string; tbl_name: string; sql: string | null }>("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'").all();
    // A swapped-in table keeps the names its indexes were built with (SQLite cannot rename an
    // index, and rebuilding one costs seconds), so an index is recognised by what it covers.
    const covers = (sql: string) => sql.slice(sql.indexOf('('));
    const wanted = deferIndexes ? [] : specs.map((index) => ({ fields: index.fields, covering: indexSql(index) }));
    // The primary key's own index has no SQL; every other index on the table is one this adapter made.
    for (const stale of indexes.filter((i) => i.tbl_name === t && i.sql && !wanted.some((w) => w.covering === covers(i.sql!)))) {
      db.exec(`DROP INDEX IF EXISTS ${stale.name}`);
    }
    // Columns for the fields of stable indexes: added and filled from the documents when a spec
    // first asks (one UPDATE over the table: seconds for a million documents), dropped when none does.
    const want = new Set(specs.filter((index) => index.stable).flatMap((index) => index.fields));
    const have = fieldsInColumns(db, t);
    for (const name of have.filter((f) => !want.has(f))) db.exec(`ALTER TABLE ${t} DROP COLUMN ${column(name)}`);
    const added = [...want].filter((f) => !have.includes(f));
    for (const name of added) db.exec(`ALTER TABLE ${t} ADD COLUMN ${column(name)}`);
    if (added.length > 0) {
      const documents = (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
      const started = performance.now();
      if (documents > 0) logger?.info({ collection: spec.name, fields: added, documents }, 'read models: filling columns for the fields of stable indexes, one pass over the collection (about 5 s per million documents, then its indexes are built)');
      db.exec(`UPDATE ${t} SET ${added.map((f) => `${column(f)} = ${field(f)}`).join(', ')} WHERE doc IS NOT NULL`);
      if (documents > 0) logger?.info({ collection: spec.name, fields: added, documents, ms: Math.round(performance.now() - started) }, 'read models: columns filled');
    }
    for (const { fields, covering } of wanted) {
      if (indexes.some((i) => i.tbl_name === t && i.sql && covers(i.sql) === covering)) continue;
      const base = `${t}__${fields.join('_')}`;
      let name = base;
      for (let n = 2; indexes.some((i) => i.name === name); n += 1) name = `${base}_${n}`;
      db.exec(`CREATE INDEX ${name} ON ${t} ${covering}`);
      indexes.push({ name, tbl_name: t, sql: `CREATE INDEX ${name} ON ${t} ${covering}` });
    }
  })();
}
