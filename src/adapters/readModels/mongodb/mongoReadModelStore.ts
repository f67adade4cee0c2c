/**
 * Production read models in MongoDB: one collection per read model (`rm_<name>`), documents as
 * `{ _id: id, position, doc }`, checkpoints in `checkpoints` as `{ _id: name, position }`.
 * The only file that imports the driver.
 */
import { MongoBulkWriteError, MongoClient, MongoServerError } from 'mongodb';
import type { AnyBulkWriteOperation, Collection, Db, Filter, IndexDescription, WriteError } from 'mongodb';
import type { JsonObject } from '../../../ports/eventStore.ts';
import type { CollectionSpec, CommitOptions, DocChange, EnsureOptions, FindQuery, ReadModelStore, StoredDoc } from '../../../ports/readModelStore.ts';
import { LIVE, collectionName, databaseInUrl, indexDescription, queryFilter, querySort, redactUrl } from './queries.ts';

interface StoredRecord {
  _id: string;
  position: number;
  /** null marks a tombstone: deleted, but its position still guards against older events. */
  doc: JsonObject | null;
}

interface CheckpointRecord {
  _id: string;
  position: number;
}

/** One position-guarded write: the fields to set on document `id` if it is older than `position`. */
interface Guarded<T extends CheckpointRecord> {
  id: string;
  position: number;
  set: Omit<T, '_id'>;
}

const DUPLICATE_KEY = 11000;
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

/**
 * `updateOne({ _id, position < p }, $set, upsert)` for each write. When a document with that id
 * already holds position ≥ p the filter misses and the upsert's insert collides on `_id`: that
 * duplicate-key error is the guard saying "ignore". A collision can also mean a concurrent writer
 * inserted the id first, so the collided writes are tried once more; now that the document
 * exists, a second collision can only be the guard.
 */
async function guardedUpserts<T extends CheckpointRecord>(collection: Collection<T>, writes: readonly Guarded<T>[], retry = true): Promise<void> {
  const ops = writes.map((w) => ({
    updateOne: { filter: { _id: w.id, position: { $lt: w.position } }, update: { $set: w.set }, upsert: true },
  })) as AnyBulkWriteOperation<T>[];
  try {
    await collection.bulkWrite(ops, { ordered: false });
  } catch (error) {
    const collided = duplicateKeyIndexes(error);
    if (!collided) throw error;
    if (retry) await guardedUpserts(collection, collided.map((i) => writes[i]!), false);
  }
}

/** `updateOne({ _id }, $set, upsert)` for each write, whatever the stored position (CommitOptions.replace). */
async function upserts<T extends CheckpointRecord>(collection: Collection<T>, writes: readonly Guarded<T>[]): Promise<void> {
  if (writes.length === 0) return;
  const ops = writes.map((w) => ({ updateOne: { filter: { _id: w.id }, update: { $set: w.set }, upsert: true } })) as AnyBulkWriteOperation<T>[];
  await collection.bulkWrite(ops, { ordered: false });
}

/** Indexes of the writes that failed on a duplicate `_id`, or undefined if anything else failed. */
function duplicateKeyIndexes(error: unknown): number[] | undefined {
  if (!(error instanceof MongoBulkWriteError) || error.result.getWriteConcernError()) return undefined;
  const writeErrors: readonly WriteError[] = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors as WriteError];
  if (writeErrors.length === 0 || writeErrors.some((e) => e.code !== DUPLICATE_KEY)) return undefined;
  return writeErrors.map((e) => e.index);
}

function toStored(record: StoredRecord): StoredDoc {
  return { id: record._id, position: record.position, doc: record.doc ?? {} };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
