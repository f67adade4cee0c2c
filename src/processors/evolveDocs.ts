/**
 * What one event does to a projection's documents: the main document (by `keyOf`) and the fan-out
 * documents (analytics buckets), each guarded by the position of the last event applied to it.
 * Pure, and the one place this logic lives: the live projector and replay both call it, so both
 * build exactly the same documents.
 */
import type { JsonObject } from '../ports/eventStore.ts';
import type { Recorded } from '../domain/events.ts';
import type { FanOut, Projection } from '../projections/projection.ts';

export interface DocState {
  /** Global position of the last event applied; 0 for a document no event has touched. */
  position: number;
  /** null: never written, or deleted (a tombstone: its position still guards against older events). */
  doc: JsonObject | null;
}

export const ABSENT: DocState = Object.freeze({ position: 0, doc: null });

/** A document's current state, or undefined when the caller has not loaded it yet. */
export type Lookup = (id: string) => DocState | undefined;

export type Evolved =
  /** The writes, in order; a later write to the same id replaces an earlier one. */
  | { writes: readonly (readonly [string, DocState])[]; missing?: undefined }
  /** Nothing was applied: load these documents, then call again. */
  | { missing: readonly string[]; writes?: undefined };

const NOTHING: Evolved = { writes: [] };
const NO_FAN_OUT: readonly FanOut[] = [];

/**
 * Applies `event` (whose main document is `key`) on top of `lookup`. Fan-out documents are known
 * only once the main document has evolved, so a caller that loads lazily learns of them through
 * `missing`; calling again after loading them gives the same result, as everything here is pure.
 */
export function evolveDocs(projection: Projection, event: Recorded, key: string, lookup: Lookup): Evolved {
  const current = lookup(key);
  if (!current) return { missing: [key] };
  if (current.position >= event.position) return NOTHING;
  const { doc, fanOut } = projection.evolveWithFanOut?.(current.doc, event) ?? { doc: projection.evolve(current.doc, event), fanOut: NO_FAN_OUT };
  // A document that did not exist and still does not is not written: most notifications are never
  // scheduled or dead-lettered, and a tombstone each would double the rows those read models write.
  const writes: (readonly [string, DocState])[] = doc === null && current.doc === null ? [] : [[key, { position: event.position, doc }]];
  if (fanOut.length === 0) return { writes };
  // A fan-out document may be written twice by one event (or be the main one): read our own writes first.
  let missing: string[] | undefined;
  for (const extra of fanOut) if (!readOwn(writes, lookup, extra.key)) (missing ??= []).push(extra.key);
  if (missing) return { missing };
  for (const extra of fanOut) {
    const target = readOwn(writes, lookup, extra.key)!;
    if (target.position >= event.position) continue;
    writes.push([extra.key, { position: event.position, doc: extra.evolve(target.doc) }]);
  }
  return { writes };
}

/** The state of `id` after `writes` (the last one to it), else as looked up. */
function readOwn(writes: readonly (readonly [string, DocState])[], lookup: Lookup, id: string): DocState | undefined {
  for (let i = writes.length - 1; i >= 0; i -= 1) if (writes[i]![0] === id) return writes[i]![1];
  return lookup(id);
}
