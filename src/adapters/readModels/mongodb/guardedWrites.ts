/**
 * Upserts guarded by position, the read-model store's writes: a document (or a checkpoint) takes a
 * write only if what it holds is older, so an event applied twice changes nothing.
 */
import { MongoBulkWriteError } from 'mongodb';
import type { AnyBulkWriteOperation, Collection, WriteError } from 'mongodb';

/** A checkpoint in `checkpoints`; documents carry the same `_id` and `position`. */
export interface CheckpointRecord {
  _id: string;
  position: number;
}

/** One position-guarded write: the fields to set on document `id` if it is older than `position`. */
export interface Guarded<T extends CheckpointRecord> {
  id: string;
  position: number;
  set: Omit<T, '_id'>;
}

const DUPLICATE_KEY = 11000;

/**
 * `updateOne({ _id, position < p }, $set, upsert)` for each write. When a document with that id
 * already holds position ≥ p the filter misses and the upsert's insert collides on `_id`: that
 * duplicate-key error is the guard saying "ignore". A collision can also mean a concurrent writer
 * inserted the id first, so the collided writes are tried once more; now that the document
 * exists, a second collision can only be the guard.
 */
export async function guardedUpserts<T extends CheckpointRecord>(collection: Collection<T>, writes: readonly Guarded<T>[], retry = true): Promise<void> {
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
export async function upserts<T extends CheckpointRecord>(collection: Collection<T>, writes: readonly Guarded<T>[]): Promise<void> {
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
