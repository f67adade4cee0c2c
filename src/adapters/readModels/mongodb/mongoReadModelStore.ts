/**
 * Production read models in MongoDB: one collection per read model (`rm_<name>`), documents as
 * `{ _id: id, position, doc }`, checkpoints in `checkpoints` as `{ _id: name, position }`.
 * With guardedWrites.ts (the position-guarded upserts), the only file that imports the driver.
 */
import { MongoClient, MongoServerError } from 'mongodb';
import type { Collection, Db, Filter, IndexDescription } from 'mongodb';
import type { JsonObject } from '../../../ports/eventStore.ts';
import type { CollectionSpec, CommitOptions, DocChange, EnsureOptions, FindQuery, ReadModelStore, StoredDoc } from '../../../ports/readModelStore.ts';
import { guardedUpserts, upserts, type CheckpointRecord, type Guarded } from './guardedWrites.ts';
import { LIVE, collectionName, databaseInUrl, indexDescription, queryFilter, querySort, redactUrl } from './queries.ts';

interface StoredRecord extends CheckpointRecord {
  /** null marks a tombstone: deleted, but its position still guards against older events. */
  doc: JsonObject | null;
}

const NAMESPACE_EXISTS = 48;
const INDEX_NOT_FOUND = 27;

export interface MongoReadModelStoreOptions {
  /** Database to use; defaults to the one in the URL's path, else `herald`. */
  dbName?: string;
  /** How long start-up and each operation wait for a usable server; 5 s by default. */
  serverSelectionTimeoutMS?: number;
}

/** Start-up could not reach a usable MongoDB; the message says what to check. */
export class ReadModelStoreUnavailableError extends Error {
  readonly code = 'read_model_store_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReadModelStoreUnavailableError';
  }
}

/** Connects and checks the server answers, so a wrong URL fails at start-up rather than at the first event. */
export async function createMongoReadModelStore(url: string, options: MongoReadModelStoreOptions = {}): Promise<MongoReadModelStore> {
  const timeout = options.serverSelectionTimeoutMS ?? 5000;
  let client: MongoClient;
  try {
    // ignoreUndefined: an undefined field is left out, as JSON (and so the SQLite adapter) does.
    // readPreference (over the URL's): every read from the primary. The projector evolves the
    // documents it reads, and one read from a lagging secondary would write a newer position over
    // an event's effect, which the position guard then keeps out for good. Analysts who want
    // secondaries query them with their own tools.
    client = new MongoClient(url, { serverSelectionTimeoutMS: timeout, appName: 'herald', ignoreUndefined: true, readPreference: 'primary' });
  } catch (error) {
    throw new ReadModelStoreUnavailableError(
      `MongoDB URL ${redactUrl(url)} is not a valid connection string (${message(error)}); check MONGODB_URL, e.g. mongodb://localhost:27017/herald`,
      { cause: error },
    );
  }
  const db = client.db(options.dbName ?? databaseInUrl(url) ?? 'herald');
  try {
    await client.connect();
    await db.command({ ping: 1 });
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new ReadModelStoreUnavailableError(
      `cannot use MongoDB at ${redactUrl(url)}: ${message(error)}; check MONGODB_URL (host, port, credentials), ` +
        `that the server is running and that this host can reach it (waited up to ${timeout} ms)`,
      { cause: error },
    );
  }
  return new MongoReadModelStore(client, db);
}

/**
 * Writes are upserts guarded by position. Without a replica set there are no transactions, so
 * `commit` writes the documents first and the checkpoint last: a crash in between leaves the
 * checkpoint behind the documents, and replaying from it changes nothing thanks to the guard.
 */
export class MongoReadModelStore implements ReadModelStore {
  private readonly checkpoints: Collection<CheckpointRecord>;

  constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {
    this.checkpoints = db.collection<CheckpointRecord>('checkpoints');
  }

  private collection(name: string): Collection<StoredRecord> {
    return this.db.collection<StoredRecord>(collectionName(name));
  }

  async ensureCollection(spec: CollectionSpec, options: EnsureOptions = {}): Promise<void> {
    // Created up front, as the SQLite adapter does, so an empty rebuilt copy can still be swapped in.
    try {
      await this.db.createCollection(collectionName(spec.name));
    } catch (error) {
      if (!(error instanceof MongoServerError && error.code === NAMESPACE_EXISTS)) throw error;
    }
    const collection = this.collection(spec.name);
    const wanted = options.deferIndexes ? [] : spec.indexes.map(indexDescription);
    const same = (a: IndexDescription, b: IndexDescription) =>
      JSON.stringify(a.key) === JSON.stringify(b.key) && JSON.stringify(a.partialFilterExpression ?? null) === JSON.stringify(b.partialFilterExpression ?? null);
    const existing = await collection.indexes();
    // Indexes a spec no longer lists (or lists differently: sparse or not) go, so none is kept up to date for nothing.
    for (const stale of existing.filter((i) => i.name !== '_id_' && !wanted.some((w) => same(w, i)))) {
      // Another projector starting at the same time may have dropped it first.
      await collection.dropIndex(stale.name!).catch((error: unknown) => {
        if (!(error instanceof MongoServerError && error.code === INDEX_NOT_FOUND)) throw error;
      });
    }
    const missing = wanted.filter((w) => !existing.some((i) => i.name !== '_id_' && same(w, i)));
    if (missing.length > 0) await collection.createIndexes(missing);
  }

  async get(collection: string, id: string): Promise<StoredDoc | null> {
    const record = await this.collection(collection).findOne({ _id: id, ...LIVE });
    return record ? toStored(record) : null;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, StoredDoc>> {
    const unique = [...new Set(ids)];
    const records = await this.collection(collection).find({ _id: { $in: unique }, ...LIVE }).toArray();
    const byId = new Map(records.map((r) => [r._id, toStored(r)]));
    // Same order as asked, like the SQLite adapter.
    const found = new Map<string, StoredDoc>();
    for (const id of unique) {
      const stored = byId.get(id);
      if (stored) found.set(id, stored);
    }
    return found;
  }

  async find(collection: string, query: FindQuery = {}): Promise<StoredDoc[]> {
    // MongoDB reads a limit of 0 as "no limit"; the port (and SQL) as "nothing".
    if (query.limit === 0) return [];
    const cursor = this.collection(collection)
      .find(queryFilter(query) as Filter<StoredRecord>)
      .sort(querySort(query))
      .skip(query.offset ?? 0);
    if (query.limit !== undefined) cursor.limit(query.limit);
    return (await cursor.toArray()).map(toStored);
  }

  async count(collection: string, query: Pick<FindQuery, 'where' | 'range'> = {}): Promise<number> {
    return this.collection(collection).countDocuments(queryFilter(query));
  }

  async commit(changes: readonly DocChange[], checkpoint?: { name: string; position: number }, options: CommitOptions = {}): Promise<void> {
    const byCollection = new Map<string, Guarded<StoredRecord>[]>();
    for (const c of changes) {
      const list = byCollection.get(c.collection) ?? [];
      list.push({ id: c.id, position: c.position, set: { position: c.position, doc: c.doc } });
      byCollection.set(c.collection, list);
    }
    await Promise.all([...byCollection].map(([name, list]) => (options.replace ? upserts(this.collection(name), list) : guardedUpserts(this.collection(name), list))));
    if (checkpoint) {
      await guardedUpserts(this.checkpoints, [{ id: checkpoint.name, position: checkpoint.position, set: { position: checkpoint.position } }]);
    }
  }

  async getCheckpoint(name: string): Promise<number> {
    return (await this.checkpoints.findOne({ _id: name }))?.position ?? 0;
  }

  async dropCollection(name: string): Promise<void> {
    await this.db.dropCollection(collectionName(name));
  }

  async renameCollection(from: string, to: string): Promise<void> {
    // One server-side step: readers see the old collection or the new one, indexes included.
    await this.db.renameCollection(collectionName(from), collectionName(to), { dropTarget: true });
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function toStored(record: StoredRecord): StoredDoc {
  return { id: record._id, position: record.position, doc: record.doc ?? {} };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
