/**
 * A read-model commit as plain rows, and how they are written: the store serializes documents on
 * the caller's thread and writes the rows there or on its commit thread (commitThread.ts), which
 * receives them as a structured clone.
 */
import type Database from 'better-sqlite3';
import type { CommitOptions, DocChange } from '../../../ports/readModelStore.ts';
import { column, columnValue, table, type Columns } from './sql.ts';

/** One table's share of a commit: per document its id, position, JSON text (null: deleted), then a value per column. */
export interface SerializedRows {
  collection: string;
  /** The stable-index fields the table keeps in columns, in the order of each row's values. */
  columns: string[];
  /** Flat, 3 + columns.length values per document: cheap to hand to another thread. */
  rows: (string | number | null)[];
}

export interface SerializedCommit {
  tables: SerializedRows[];
  checkpoint?: { name: string; position: number };
  /** Every row written whatever its stored position (CommitOptions.replace). */
  replace?: boolean;
}

/** A statement for SQL text, prepared once per connection. */
type Prepare = (sql: string) => Database.Statement;

/**
 * The changes as rows to write: documents as JSON text and the values of the tables' stable
 * columns, which is all the work of a commit that needs the documents themselves.
 */
export function serializeChanges(changes: readonly DocChange[], columnsOf: (table: string) => Columns, checkpoint?: { name: string; position: number }, options: CommitOptions = {}): SerializedCommit {
  const tables: SerializedRows[] = [];
  let current: SerializedRows | undefined;
  for (const c of changes) {
    if (c.collection !== current?.collection) {
      current = { collection: c.collection, columns: [...columnsOf(table(c.collection))], rows: [] };
      tables.push(current);
    }
    current.rows.push(c.id, c.position, c.doc === null ? null : JSON.stringify(c.doc));
    for (const name of current.columns) current.rows.push(columnValue(c.doc, name));
  }
  return { tables, ...(checkpoint ? { checkpoint } : {}), ...(options.replace ? { replace: true } : {}) };
}

/** Writes serialized commits, in order, in one transaction: all of them or none. */
export function writeSerializedGroup(db: Database.Database, prepare: Prepare, commits: readonly SerializedCommit[]): void {
  db.transaction(() => {
    for (const commit of commits) {
      for (const rows of commit.tables) {
        if (commit.replace) replaceRows(prepare, rows);
        else writeRows(prepare, rows);
      }
      if (commit.checkpoint) {
        prepare(
          'INSERT INTO rm_checkpoints (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position WHERE excluded.position > rm_checkpoints.position',
        ).run(commit.checkpoint.name, commit.checkpoint.position);
      }
    }
  })();
}

/** Writes the rows of one table (see SerializedCommit) whatever their stored positions. */
function replaceRows(prepare: Prepare, { collection, columns: stable, rows }: SerializedRows): void {
  const t = table(collection);
  const stride = 3 + stable.length;
  const columns = ['id', 'position', 'doc', ...stable.map(column)];
  const replace = prepare(
    `INSERT INTO ${t} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
     ON CONFLICT(id) DO UPDATE SET ${columns.slice(1).map((c) => `${c} = excluded.${c}`).join(', ')}`,
  );
  for (let r = 0; r < rows.length; r += stride) replace.run(...rows.slice(r, r + stride));
}

/**
 * Writes the rows of one table (see SerializedCommit), each unless the document already has
 * that position or a later one.
 */
function writeRows(prepare: Prepare, { collection, columns: stable, rows }: SerializedRows): void {
  const t = table(collection);
  const stride = 3 + stable.length;
  if (stable.length === 0) {
    const upsert = prepare(
      `INSERT INTO ${t} (id, position, doc) VALUES (?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET position = excluded.position, doc = excluded.doc WHERE excluded.position > ${t}.position`,
    );
    for (let r = 0; r < rows.length; r += stride) upsert.run(rows[r], rows[r + 1], rows[r + 2]);
    return;
  }
  const columns = stable.map(column);
  // An update that leaves the stable fields as they are writes the document alone, and so
  // leaves their index alone; when it changes any of them (a deletion or a comeback does)
  // nothing is written here, and the full update below writes them too.
  const upsert = prepare(
    `INSERT INTO ${t} (id, position, doc, ${columns.join(', ')}) VALUES (?, ?, ?${', ?'.repeat(columns.length)})
     ON CONFLICT(id) DO UPDATE SET position = excluded.position, doc = excluded.doc
     WHERE excluded.position > ${t}.position${columns.map((c) => ` AND ${t}.${c} IS excluded.${c}`).join('')}`,
  );
  const rewrite = prepare(`UPDATE ${t} SET position = ?, doc = ?, ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ? AND position < ?`);
  for (let r = 0; r < rows.length; r += stride) {
    const id = rows[r];
    const position = rows[r + 1];
    const doc = rows[r + 2];
    const values = rows.slice(r + 3, r + stride);
    if (upsert.run(id, position, doc, ...values).changes === 0) rewrite.run(position, doc, ...values, id, position);
  }
}
