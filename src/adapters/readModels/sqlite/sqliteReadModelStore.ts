import Database from 'better-sqlite3';
import type { Logger } from '../../../ports/logger.ts';
import { diskFailure } from '../../sqliteDisk.ts';
import { CommitThread } from './commitThreadClient.ts';
import type { CollectionSpec, CommitOptions, DocChange, EnsureOptions, FindQuery, ReadModelStore, StoredDoc } from '../../../ports/readModelStore.ts';
import { serializeChanges, writeSerializedGroup, type SerializedCommit } from './serializedCommit.ts';
import { countSql, NO_COLUMNS, orderSql, table, whereSql, type Columns } from './sql.ts';
import { ensureTable, fieldsInColumns } from './tableSchema.ts';
import type { SqliteReadModelOptions } from './storeOptions.ts';
import { toStored, type Row } from './storedRow.ts';

/** Ids per `IN (…)` list in getMany: far below SQLite's limit on parameters. */
const IN_CHUNK = 512;

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
      const fields = fieldsInColumns(this.db, t);
      columns = fields.length > 0 ? new Set(fields) : NO_COLUMNS;
      this.columnsByTable.set(t, columns);
    }
    return columns;
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
    // With a commit thread the indexes are kept through the inserts: sorting them is the thread's
    // time, which a bulk writer does not wait for, where one build at the end would be its own.
    ensureTable(this.db, spec, options.deferIndexes === true && !this.commitThread, this.logger);
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
    const order = orderSql(query, columns);
    const rows = this.read([], () => this.statement(`SELECT id, position, doc FROM ${t}${sql}${order} LIMIT ? OFFSET ?`)
      .all(...params, query.limit ?? -1, query.offset ?? 0) as Row[]);
    return rows.map(toStored);
  }

  async count(collection: string, query: Pick<FindQuery, 'where' | 'range'> = {}): Promise<number> {
    const { sql, params } = countSql(collection, query, this.columns(table(collection)));
    return this.read(0, () => (this.statement(sql).get(...params) as { n: number }).n);
  }

  /** The changes as rows to write (serializedCommit.ts), with this connection's view of each table's columns. */
  serialize(changes: readonly DocChange[], checkpoint?: { name: string; position: number }, options: CommitOptions = {}): SerializedCommit {
    return serializeChanges(changes, (t) => this.columns(t), checkpoint, options);
  }

  /** Writes a serialized commit in one transaction: what `commit` does, here or on the commit thread. */
  writeSerialized(commit: SerializedCommit): void {
    this.writeSerializedGroup([commit]);
  }

  /**
   * Writes serialized commits, in order, in one transaction: all of them or none. A full disk's
   * refusal says which file and what to do; the projector retries the batch every second.
   */
  writeSerializedGroup(commits: readonly SerializedCommit[]): void {
    try {
      writeSerializedGroup(this.db, (sql) => this.statement(sql), commits);
    } catch (error) {
      const why = diskFailure(this.db.name, error);
      if (why === undefined) throw error;
      throw new Error(`${why}; the read models catch up by themselves once there is room`, { cause: error });
    }
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
