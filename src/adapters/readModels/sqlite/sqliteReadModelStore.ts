import Database from 'better-sqlite3';
import type { JsonObject } from '../../../ports/eventStore.ts';
import type { Logger } from '../../../ports/logger.ts';
import { CommitThread } from './commitThreadClient.ts';
import { indexSpec, type CollectionSpec, type CommitOptions, type DocChange, type EnsureOptions, type FieldValue, type FindQuery, type IndexSpec, type ReadModelStore, type StoredDoc } from '../../../ports/readModelStore.ts';

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const FIELD = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

function table(name: string): string {
  if (!NAME.test(name)) throw new Error(`invalid collection name ${JSON.stringify(name)}: use lower case letters, digits and _`);
  return `rm_${name}`;
}

function field(name: string): string {
  if (!FIELD.test(name)) throw new Error(`invalid field name ${JSON.stringify(name)}`);
  return `json_extract(doc, '$.${name}')`;
}

/** The column that holds a stable index's field (see IndexSpec.stable). */
function column(name: string): string {
  if (!FIELD.test(name)) throw new Error(`invalid field name ${JSON.stringify(name)}`);
  return `f_${name}`;
}

/** Fields a table keeps in columns of their own: queries on them use the column, and so its index. */
type Columns = ReadonlySet<string>;
const NO_COLUMNS: Columns = new Set();

const fieldIn = (columns: Columns, name: string) => (columns.has(name) ? column(name) : field(name));

/** A field's value as json_extract reads it from the document: booleans as 1 or 0, objects as JSON text, absent as NULL. */
function columnValue(doc: JsonObject | null, name: string): string | number | null {
  const value = doc?.[name];
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'object') return JSON.stringify(value);
  return value as string | number;
}

/** Ids per `IN (…)` list in getMany: far below SQLite's limit on parameters. */
const IN_CHUNK = 512;

/** An index's columns and, for a sparse one, its WHERE: a document without the first field is not in it. */
function indexSql(index: IndexSpec): string {
  const key = index.stable ? column : field;
  const columns = `(${index.fields.map(key).join(', ')})`;
  return index.sparse ? `${columns} WHERE ${key(index.fields[0]!)} IS NOT NULL` : columns;
}

const sqlValue = (v: FieldValue) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

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

export interface SqliteReadModelOptions {
  /**
   * Commits are written by a thread of their own (commitThread.ts), on its own connection: the
   * caller only serializes the documents, and its commit resolves once they are written. For bulk
   * writers that keep a commit in flight while they compute the next (rebuilds, see buildPass.ts),
   * this puts SQLite's share of the work on another core. Reads on this connection do not wait for
   * a commit in flight: await it first.
   */
  commitThread?: boolean;
  /**
   * With a commit thread: a commit of at most this many documents, with none in flight, is
   * written on the caller's thread, which spares it the hand-over (default 64; 0: none is).
   */
  inlineCommitDocs?: number;
}

/**
 * How a bulk writer opens the store (replay: `npm run replay` through openStores, and the bench's
 * replay): every commit on the commit thread. A rebuild stream by stream commits small pages,
 * which would otherwise be written on the caller's thread whenever the commit thread is idle.
 */
export const BULK_WRITER_OPTIONS: SqliteReadModelOptions = { commitThread: true, inlineCommitDocs: 0 };

interface Row {
  id: string;
  position: number;
  doc: string | null;
}

/**
 * Embedded read models: one SQLite table per collection, documents as JSON, indexes on
 * json_extract expressions. Deleted documents stay as tombstones (doc NULL) that keep their
 * position, so a late or replayed event cannot bring a deleted document back.
 *
 * The fields of a stable index are also kept in columns (`f_<field>`, always equal to what
 * json_extract reads from the document, NULL in a tombstone) and indexed there. An index on an
 * expression of `doc` is rewritten whenever the document is, even when its key is unchanged: for
 * the notification log's per-user index that was a second write into a user's leaf page for
 * every notification (requested, then sent), measured as most of what 1M notifications of
 * history cost over 10k (docs/performance.md).
 */
export class SqliteReadModelStore implements ReadModelStore {
  private readonly db: Database.Database;
  private readonly cache = new Map<string, Database.Statement>();
  /** Columns by table, as last read from the schema; dropped when the schema version moves (another connection may migrate or swap a table). */
  private readonly columnsByTable = new Map<string, Columns>();
  private schemaSeen = -1;
  private readonly commitThread: CommitThread | undefined;
  private readonly inlineCommitDocs: number;

  /** `logger`: where a long change of a table's layout (filling new columns) is announced. */
  constructor(file: string, private readonly logger?: Logger, options: SqliteReadModelOptions = {}) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // Read models are rebuilt from the events, so a lost last commit costs a replay, not data.
    this.db.pragma('synchronous = NORMAL');
    // 64 MB of page cache: documents and their indexes stay hot as the read models grow.
    this.db.pragma('cache_size = -65536');
    this.db.exec('CREATE TABLE IF NOT EXISTS rm_checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL)');
    this.commitThread = options.commitThread ? new CommitThread(file) : undefined;
    this.inlineCommitDocs = options.inlineCommitDocs ?? 64;
  }

  private statement(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  private columns(t: string): Columns {
    const version = this.statement('PRAGMA schema_version').pluck().get() as number;
    if (version !== this.schemaSeen) {
      this.columnsByTable.clear();
      this.schemaSeen = version;
    }
    let columns = this.columnsByTable.get(t);
    if (!columns) {
      const fields = this.fieldsInColumns(t);
      columns = fields.length > 0 ? new Set(fields) : NO_COLUMNS;
      this.columnsByTable.set(t, columns);
    }
    return columns;
  }

  /** The fields table `t` keeps in columns of their own, read from its schema. */
  private fieldsInColumns(t: string): string[] {
    return this.db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${t}')`).all().flatMap((c) => (c.name.startsWith('f_') ? [c.name.slice(2)] : []));
  }

  /** Reads of a collection that does not exist (yet, or any more) find nothing, as in MongoDB. */
  private read<T>(fallback: T, body: () => T): T {
    try {
      return body();
    } catch (error) {
      if (error instanceof Database.SqliteError && error.message.startsWith('no such table')) return fallback;
      throw error;
    }
  }

  async ensureCollection(spec: CollectionSpec, options: EnsureOptions = {}): Promise<void> {
    const t = table(spec.name);
    const specs = spec.indexes.map(indexSpec);
    this.db.transaction(() => {
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${t} (id TEXT PRIMARY KEY, position INTEGER NOT NULL, doc TEXT)`);
      const indexes = this.db.prepare<[], { name: string; tbl_name: string; sql: string | null }>("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'").all();
      // A swapped-in table keeps the names its indexes were built with (SQLite cannot rename an
      // index, and rebuilding one costs seconds), so an index is recognised by what it covers.
      const covers = (sql: string) => sql.slice(sql.indexOf('('));
      // With a commit thread the indexes are kept through the inserts: sorting them is the thread's
      // time, which a bulk writer does not wait for, where one build at the end would be its own.
      const wanted = options.deferIndexes && !this.commitThread ? [] : specs.map((index) => ({ fields: index.fields, covering: indexSql(index) }));
      // The primary key's own index has no SQL; every other index on the table is one this adapter made.
      for (const stale of indexes.filter((i) => i.tbl_name === t && i.sql && !wanted.some((w) => w.covering === covers(i.sql!)))) {
        this.db.exec(`DROP INDEX IF EXISTS ${stale.name}`);
      }
      // Columns for the fields of stable indexes: added and filled from the documents when a spec
      // first asks (one UPDATE over the table: seconds for a million documents), dropped when none does.
      const want = new Set(specs.filter((index) => index.stable).flatMap((index) => index.fields));
      const have = this.fieldsInColumns(t);
      for (const name of have.filter((f) => !want.has(f))) this.db.exec(`ALTER TABLE ${t} DROP COLUMN ${column(name)}`);
      const added = [...want].filter((f) => !have.includes(f));
      for (const name of added) this.db.exec(`ALTER TABLE ${t} ADD COLUMN ${column(name)}`);
      if (added.length > 0) {
        const documents = (this.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
        const started = performance.now();
        if (documents > 0) this.logger?.info({ collection: spec.name, fields: added, documents }, 'read models: filling columns for the fields of stable indexes, one pass over the collection (about 5 s per million documents, then its indexes are built)');
        this.db.exec(`UPDATE ${t} SET ${added.map((f) => `${column(f)} = ${field(f)}`).join(', ')} WHERE doc IS NOT NULL`);
        if (documents > 0) this.logger?.info({ collection: spec.name, fields: added, documents, ms: Math.round(performance.now() - started) }, 'read models: columns filled');
      }
      for (const { fields, covering } of wanted) {
        if (indexes.some((i) => i.tbl_name === t && i.sql && covers(i.sql) === covering)) continue;
        const base = `${t}__${fields.join('_')}`;
        let name = base;
        for (let n = 2; indexes.some((i) => i.name === name); n += 1) name = `${base}_${n}`;
        this.db.exec(`CREATE INDEX ${name} ON ${t} ${covering}`);
        indexes.push({ name, tbl_name: t, sql: `CREATE INDEX ${name} ON ${t} ${covering}` });
      }
    })();
    this.cache.clear();
  }

  async get(collection: string, id: string): Promise<StoredDoc | null> {
    const row = this.read(undefined, () => this.statement(`SELECT id, position, doc FROM ${table(collection)} WHERE id = ? AND doc IS NOT NULL`).get(id) as Row | undefined);
    return row ? toStored(row) : null;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, StoredDoc>> {
    const unique = [...new Set(ids)];
    const found = new Map<string, StoredDoc>();
    return this.read(found, () => {
      const rows = new Map<string, Row>();
      for (let i = 0; i < unique.length; i += IN_CHUNK) {
        const chunk = unique.slice(i, i + IN_CHUNK);
        // Lists are padded (with a repeated id) to a power of two: a handful of prepared statements serves every size.
        const size = 2 ** Math.ceil(Math.log2(chunk.length));
        while (chunk.length < size) chunk.push(chunk[0]!);
        const select = this.statement(`SELECT id, position, doc FROM ${table(collection)} WHERE id IN (${'?,'.repeat(size - 1)}?) AND doc IS NOT NULL`);
        for (const row of select.all(...chunk) as Row[]) rows.set(row.id, row);
      }
      // Same order as asked, like the MongoDB adapter.
      for (const id of unique) {
        const row = rows.get(id);
        if (row) found.set(id, toStored(row));
      }
      return found;
    });
  }

  async find(collection: string, query: FindQuery = {}): Promise<StoredDoc[]> {
    const t = table(collection);
    const columns = this.columns(t);
    const { sql, params } = whereSql(query, columns);
    const order = query.orderBy ? ` ORDER BY ${fieldIn(columns, query.orderBy.field)} ${query.orderBy.direction === 'desc' ? 'DESC' : 'ASC'}, id` : ' ORDER BY id';
    const rows = this.read([], () => this.statement(`SELECT id, position, doc FROM ${t}${sql}${order} LIMIT ? OFFSET ?`)
      .all(...params, query.limit ?? -1, query.offset ?? 0) as Row[]);
    return rows.map(toStored);
  }

  async count(collection: string, query: Pick<FindQuery, 'where' | 'range'> = {}): Promise<number> {
    const { sql, params } = countSql(collection, query, this.columns(table(collection)));
    return this.read(0, () => (this.statement(sql).get(...params) as { n: number }).n);
  }

  /** Writes the rows of one table (see SerializedCommit) whatever their stored positions. */
  private replaceRows({ collection, columns: stable, rows }: SerializedRows): void {
    const t = table(collection);
    const stride = 3 + stable.length;
    const columns = ['id', 'position', 'doc', ...stable.map(column)];
    const replace = this.statement(
      `INSERT INTO ${t} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
       ON CONFLICT(id) DO UPDATE SET ${columns.slice(1).map((c) => `${c} = excluded.${c}`).join(', ')}`,
    );
    for (let r = 0; r < rows.length; r += stride) replace.run(...rows.slice(r, r + stride));
  }

  /**
   * Writes the rows of one table (see SerializedCommit), each unless the document already has
   * that position or a later one.
   */
  private writeRows({ collection, columns: stable, rows }: SerializedRows): void {
    const t = table(collection);
    const stride = 3 + stable.length;
    if (stable.length === 0) {
      const upsert = this.statement(
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
    const upsert = this.statement(
      `INSERT INTO ${t} (id, position, doc, ${columns.join(', ')}) VALUES (?, ?, ?${', ?'.repeat(columns.length)})
       ON CONFLICT(id) DO UPDATE SET position = excluded.position, doc = excluded.doc
       WHERE excluded.position > ${t}.position${columns.map((c) => ` AND ${t}.${c} IS excluded.${c}`).join('')}`,
    );
    const rewrite = this.statement(`UPDATE ${t} SET position = ?, doc = ?, ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ? AND position < ?`);
    for (let r = 0; r < rows.length; r += stride) {
      const id = rows[r];
      const position = rows[r + 1];
      const doc = rows[r + 2];
      const values = rows.slice(r + 3, r + stride);
      if (upsert.run(id, position, doc, ...values).changes === 0) rewrite.run(position, doc, ...values, id, position);
    }
  }

  /**
   * The changes as rows to write: documents as JSON text and the values of the tables' stable
   * columns, which is all the work of a commit that needs the documents themselves.
   */
  serialize(changes: readonly DocChange[], checkpoint?: { name: string; position: number }, options: CommitOptions = {}): SerializedCommit {
    const tables: SerializedRows[] = [];
    let current: SerializedRows | undefined;
    for (const c of changes) {
      if (c.collection !== current?.collection) {
        current = { collection: c.collection, columns: [...this.columns(table(c.collection))], rows: [] };
        tables.push(current);
      }
      current.rows.push(c.id, c.position, c.doc === null ? null : JSON.stringify(c.doc));
      for (const name of current.columns) current.rows.push(columnValue(c.doc, name));
    }
    return { tables, ...(checkpoint ? { checkpoint } : {}), ...(options.replace ? { replace: true } : {}) };
  }

  /** Writes a serialized commit in one transaction: what `commit` does, here or on the commit thread. */
  writeSerialized(commit: SerializedCommit): void {
    this.writeSerializedGroup([commit]);
  }

  /** Writes serialized commits, in order, in one transaction: all of them or none. */
  writeSerializedGroup(commits: readonly SerializedCommit[]): void {
    this.db.transaction(() => {
      for (const commit of commits) {
        for (const rows of commit.tables) {
          if (commit.replace) this.replaceRows(rows);
          else this.writeRows(rows);
        }
        if (commit.checkpoint) {
          this.statement(
            'INSERT INTO rm_checkpoints (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position WHERE excluded.position > rm_checkpoints.position',
          ).run(commit.checkpoint.name, commit.checkpoint.position);
        }
      }
    })();
  }

  async commit(changes: readonly DocChange[], checkpoint?: { name: string; position: number }, options?: CommitOptions): Promise<void> {
    const serialized = this.serialize(changes, checkpoint, options);
    // A small commit with none in flight is written here: no wait for the thread, and no commit
    // can overtake another.
    if (this.commitThread && !(this.commitThread.idle && changes.length <= this.inlineCommitDocs)) return this.commitThread.commit(serialized);
    this.writeSerialized(serialized);
  }

  async getCheckpoint(name: string): Promise<number> {
    return (this.statement('SELECT position FROM rm_checkpoints WHERE name = ?').get(name) as { position: number } | undefined)?.position ?? 0;
  }

  async dropCollection(name: string): Promise<void> {
    this.db.exec(`DROP TABLE IF EXISTS ${table(name)}`);
    this.cache.clear();
  }

  async renameCollection(from: string, to: string): Promise<void> {
    const [f, t] = [table(from), table(to)];
    this.db.transaction(() => {
      this.db.exec(`DROP TABLE IF EXISTS ${t}`);
      // Its indexes follow the table under their old names; ensureCollection finds them by what they cover.
      this.db.exec(`ALTER TABLE ${f} RENAME TO ${t}`);
    })();
    this.cache.clear();
  }

  async ping(): Promise<void> {
    this.statement('SELECT 1').get();
  }

  async close(): Promise<void> {
    await this.commitThread?.close();
    if (this.db.open) this.db.close();
  }
}

function toStored(row: Row): StoredDoc {
  return { id: row.id, position: row.position, doc: JSON.parse(row.doc ?? 'null') as JsonObject };
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
function whereSql(query: Pick<FindQuery, 'where' | 'range'>, columns: Columns): { sql: string; params: (string | number)[] } {
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
  if (parts.length === 0) parts.push('doc IS NOT NULL');
  return { sql: ` WHERE ${parts.join(' AND ')}`, params };
}
