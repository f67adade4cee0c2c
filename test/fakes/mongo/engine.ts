/**
 * The in-memory document engine behind the MongoDB wire-protocol test server (a test fixture,
 * not product). mingo does the matching, sorting, projection, aggregation and update operators;
 * this file keeps databases, collections and index definitions and enforces what mingo cannot:
 * `_id` uniqueness (E11000, which the read-model adapter's position guard relies on), upserts,
 * and the namespace errors of create/rename. Indexes are recorded, not used: every query scans.
 */
import { EJSON, ObjectId } from 'bson';
import { aggregate, find } from 'mingo';
import { applyUpdate, duplicateKey, keyOf, upsertSeed } from './updates.ts';
import type { Doc, WriteError } from './updates.ts';

export class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FindOptions {
  sort?: Doc;
  skip?: number;
  limit?: number;
  projection?: Doc;
}

interface Collection {
  docs: Map<string, Doc>;
  indexes: Map<string, Doc>;
}

const ID_INDEX: Doc = { v: 2, key: { _id: 1 }, name: '_id_' };

export class MongoEngine {
  private readonly dbs = new Map<string, Map<string, Collection>>();

  private database(db: string): Map<string, Collection> {
    let collections = this.dbs.get(db);
    if (!collections) this.dbs.set(db, (collections = new Map<string, Collection>()));
    return collections;
  }

  private get(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** Writes and createIndexes create a missing collection, as MongoDB does. */
  private ensure(db: string, name: string): Collection {
    const collections = this.database(db);
    let c = collections.get(name);
    if (!c) collections.set(name, (c = { docs: new Map<string, Doc>(), indexes: new Map([['_id_', ID_INDEX]]) }));
    return c;
  }

  collectionNames(db: string): string[] {
    return [...(this.dbs.get(db)?.keys() ?? [])];
  }

  create(db: string, name: string): void {
    if (this.get(db, name)) throw new CommandError(48, 'NamespaceExists', `Collection ${db}.${name} already exists.`);
    this.ensure(db, name);
  }

  drop(db: string, name: string): void {
    this.dbs.get(db)?.delete(name);
  }

  dropDatabase(db: string): void {
    this.dbs.delete(db);
  }

  rename(from: string, to: string, dropTarget: boolean): void {
    const [fromDb, fromName] = splitNs(from);
    const [toDb, toName] = splitNs(to);
    const source = this.get(fromDb, fromName);
    if (!source) throw new CommandError(26, 'NamespaceNotFound', `Source collection ${from} does not exist`);
    if (this.get(toDb, toName) && !dropTarget) throw new CommandError(48, 'NamespaceExists', 'target namespace exists');
    this.database(fromDb).delete(fromName);
    this.database(toDb).set(toName, source);
  }

  find(db: string, name: string, filter: Doc, options: FindOptions = {}): Doc[] {
    const docs = [...(this.get(db, name)?.docs.values() ?? [])];
    let cursor = find<Doc>(docs, filter, options.projection);
    if (options.sort && Object.keys(options.sort).length > 0) cursor = cursor.sort(options.sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(Math.abs(options.limit));
    return cursor.all();
  }

  aggregate(db: string, name: string, pipeline: Doc[]): Doc[] {
    return aggregate([...(this.get(db, name)?.docs.values() ?? [])], pipeline);
  }

  insert(db: string, name: string, documents: Doc[], ordered: boolean): { n: number; writeErrors: WriteError[] } {
    const c = this.ensure(db, name);
    const writeErrors: WriteError[] = [];
    let n = 0;
    for (const [index, doc] of documents.entries()) {
      const withId = '_id' in doc ? doc : { _id: new ObjectId(), ...doc };
      if (c.docs.has(keyOf(withId._id))) {
        writeErrors.push(duplicateKey(index, `${db}.${name}`, withId._id));
        if (ordered) break;
        continue;
      }
      c.docs.set(keyOf(withId._id), withId);
      n += 1;
    }
    return { n, writeErrors };
  }

  update(db: string, name: string, updates: Doc[], ordered: boolean) {
    const c = this.ensure(db, name);
    const result = { n: 0, nModified: 0, upserted: [] as { index: number; _id: unknown }[], writeErrors: [] as WriteError[] };
    for (const [index, op] of updates.entries()) {
      const { q = {}, u, upsert = false, multi = false } = op as { q?: Doc; u: Doc | Doc[]; upsert?: boolean; multi?: boolean };
      const matches = this.find(db, name, q, { limit: multi ? 0 : 1 });
      for (const current of matches) {
        const next = applyUpdate(current, u, false);
        if (keyOf(next._id) !== keyOf(current._id)) {
          result.writeErrors.push({ index, code: 66, errmsg: "Performing an update on the path '_id' would modify the immutable field '_id'" });
          break;
        }
        result.n += 1;
        if (EJSON.stringify(next) !== EJSON.stringify(current)) result.nModified += 1;
        c.docs.set(keyOf(next._id), next);
      }
      if (matches.length === 0 && upsert) {
        const inserted = applyUpdate(upsertSeed(q), u, true);
        if (!('_id' in inserted)) inserted._id = new ObjectId();
        // The filter missed, yet the id is taken: the real server's unique _id index answers E11000.
        if (c.docs.has(keyOf(inserted._id))) result.writeErrors.push(duplicateKey(index, `${db}.${name}`, inserted._id));
        else {
          c.docs.set(keyOf(inserted._id), inserted);
          result.n += 1;
          result.upserted.push({ index, _id: inserted._id });
        }
      }
      if (ordered && result.writeErrors.length > 0) break;
    }
    return result;
  }

  delete(db: string, name: string, deletes: Doc[]): number {
    const c = this.get(db, name);
    if (!c) return 0;
    let n = 0;
    for (const { q = {}, limit = 0 } of deletes as { q?: Doc; limit?: number }[]) {
      for (const doc of this.find(db, name, q, { limit })) {
        c.docs.delete(keyOf(doc._id));
        n += 1;
      }
    }
    return n;
  }

  createIndexes(db: string, name: string, indexes: Doc[]): { before: number; after: number; createdCollection: boolean } {
    const createdCollection = !this.get(db, name);
    const c = this.ensure(db, name);
    const before = c.indexes.size;
    for (const index of indexes) {
      const key = index.key as Doc;
      const indexName = typeof index.name === 'string' ? index.name : defaultIndexName(key);
      const existing = c.indexes.get(indexName);
      if (existing && EJSON.stringify(existing.key) !== EJSON.stringify(key)) {
        throw new CommandError(86, 'IndexKeySpecsConflict', `An existing index has the same name as the requested index: ${indexName}`);
      }
      const sameKey = [...c.indexes.values()].find((i) => EJSON.stringify(i.key) === EJSON.stringify(key));
      if (sameKey && sameKey.name !== indexName) {
        throw new CommandError(85, 'IndexOptionsConflict', `Index already exists with a different name: ${String(sameKey.name)}`);
      }
      c.indexes.set(indexName, { v: 2, ...index, key, name: indexName });
    }
    return { before, after: c.indexes.size, createdCollection };
  }

  listIndexes(db: string, name: string): Doc[] {
    const c = this.get(db, name);
    if (!c) throw new CommandError(26, 'NamespaceNotFound', `ns does not exist: ${db}.${name}`);
    return [...c.indexes.values()];
  }

  /** Drops one index by name, as `dropIndexes` with `index: <name>` does; `_id_` cannot be dropped. */
  dropIndex(db: string, name: string, index: string): number {
    const c = this.get(db, name);
    if (!c) throw new CommandError(26, 'NamespaceNotFound', `ns not found ${db}.${name}`);
    if (index === '_id_') throw new CommandError(72, 'InvalidOptions', 'cannot drop _id index');
    if (!c.indexes.has(index)) throw new CommandError(27, 'IndexNotFound', `index not found with name [${index}]`);
    const before = c.indexes.size;
    c.indexes.delete(index);
    return before;
  }
}

export function splitNs(ns: string): [string, string] {
  const dot = ns.indexOf('.');
  if (dot <= 0) throw new CommandError(73, 'InvalidNamespace', `Invalid namespace specified '${ns}'`);
  return [ns.slice(0, dot), ns.slice(dot + 1)];
}

function defaultIndexName(key: Doc): string {
  return Object.entries(key).map(([field, direction]) => `${field}_${String(direction)}`).join('_');
}
