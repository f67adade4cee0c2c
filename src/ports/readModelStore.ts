/**
 * The read-model store port: named collections of JSON documents, each stored with the global
 * position of the last event applied to it. Writes are guarded by that position, so applying an
 * event twice (redelivery, replay after a crash) changes nothing.
 */
import type { JsonObject } from './eventStore.ts';

export interface StoredDoc<T extends JsonObject = JsonObject> {
  id: string;
  /** Global position of the last event applied to this document. */
  position: number;
  doc: T;
}

/**
 * An index on top-level fields, in order. A sparse one holds only the documents that have its
 * first field: cheaper to keep when most documents of a collection lack it (analytics keeps a
 * per-notification document beside its buckets), and used only by queries that filter on that
 * first field (`where` or `range`), not by an `orderBy` alone.
 *
 * A stable one is on fields that a document keeps once it is written (a notification's user and
 * time): a hint, never a promise. The SQLite adapter then keeps those fields in columns of their
 * own, so an update that leaves them alone does not rewrite the index (an index on the JSON
 * document is rewritten on every update of it); an update that changes them still does, and
 * answers stay right. MongoDB already leaves unchanged index keys alone and ignores the hint.
 */
export interface IndexSpec {
  fields: readonly string[];
  sparse?: boolean;
  stable?: boolean;
}

/** A field, a list of fields (compound), or an IndexSpec. */
export type IndexDef = string | readonly string[] | IndexSpec;

const COLLECTION_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

/**
 * The names every adapter accepts, so a projection runs unchanged on any store (and a name can be
 * spliced into SQL or a MongoDB path safely). Throws on any other.
 */
export function checkCollectionName(name: string): string {
  if (!COLLECTION_NAME.test(name)) throw new Error(`invalid collection name ${JSON.stringify(name)}: use lower case letters, digits and _`);
  return name;
}

export function checkFieldName(name: string): string {
  if (!FIELD_NAME.test(name)) throw new Error(`invalid field name ${JSON.stringify(name)}`);
  return name;
}

export function indexSpec(index: IndexDef): IndexSpec {
  if (typeof index === 'string') return { fields: [index] };
  if ('fields' in index) return index;
  return { fields: index };
}

export interface CollectionSpec {
  name: string;
  /**
   * Top-level fields that `find` filters or sorts on: one index each. `ensureCollection` makes the
   * collection's indexes exactly these, dropping any it made earlier that are no longer listed.
   */
  indexes: readonly IndexDef[];
}

export type FieldValue = string | number | boolean;

export interface FindQuery {
  /**
   * Equality on top-level fields, all of which must match. At least one should be indexed (the
   * others then narrow what that index finds: a user's notifications of one status).
   */
  where?: Readonly<Record<string, FieldValue>>;
  /** Range on one indexed field (inclusive bounds). */
  range?: { field: string; gte?: FieldValue; lte?: FieldValue };
  /** Documents with the same value are ordered by id, in the same direction. */
  orderBy?: { field: string; direction: 'asc' | 'desc' };
  limit?: number;
  offset?: number;
  /**
   * Keyset paging: only the documents after this one in `orderBy`'s order, named by its value of
   * the orderBy field and its id (the last document of the page before). Unlike `offset`, a page
   * neither repeats nor skips a document when others are added in front. Needs `orderBy`.
   */
  after?: { value: FieldValue; id: string };
}

export interface DocChange {
  collection: string;
  id: string;
  /** The new document, or null to delete it. */
  doc: JsonObject | null;
  position: number;
}

export interface CommitOptions {
  replace?: boolean;
}

export interface EnsureOptions {
  /**
   * Ready for the spec's documents, but with none of its indexes yet: a rebuild fills the
   * collection first and ensures it again without this option (one index build is cheaper than
   * keeping an index sorted through every insert).
   */
  deferIndexes?: boolean;
}

export interface ReadModelStore {
  ensureCollection(spec: CollectionSpec, options?: EnsureOptions): Promise<void>;
  get(collection: string, id: string): Promise<StoredDoc | null>;
  getMany(collection: string, ids: readonly string[]): Promise<Map<string, StoredDoc>>;
  find(collection: string, query?: FindQuery): Promise<StoredDoc[]>;
  count(collection: string, query?: Pick<FindQuery, 'where' | 'range'>): Promise<number>;
  /**
   * Applies each change whose position is greater than the stored document's (others are
   * ignored), then records the checkpoint. Atomic where the store supports it; idempotent always.
   * With `replace`, every change is written whatever the stored position: for a writer that
   * builds each document from all the events before it, but not in log order (streamPass.ts).
   */
  commit(changes: readonly DocChange[], checkpoint?: { name: string; position: number }, options?: CommitOptions): Promise<void>;
  /** Last position recorded for a checkpoint name; 0 when none. */
  getCheckpoint(name: string): Promise<number>;
  /** Drops a collection and its checkpoints' documents; used to discard a half-built copy. */
  dropCollection(name: string): Promise<void>;
  /** Replaces `to` with `from` in one step (blue/green swap after a rebuild). */
  renameCollection(from: string, to: string): Promise<void>;
  /** Cheap round trip used by readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
