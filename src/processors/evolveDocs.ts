/**
 * What one event does to a projection's documents: the main document (by `keyOf`) and the fan-out
 * documents (analytics buckets), each guarded by the position of the last event applied to it.
 * The one place this logic lives: the live projector and replay both call it (through their
 * DocCache), so both build exactly the same documents.
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

/**
 * Where the documents are read and written. Writes go straight in, with no list of them in
 * between (replay applies about four per log event, and each list, pair and state object would be
 * garbage right after): so an event's writes are all computed before the first one is made.
 */
export interface DocSource {
  /** A document's current state, or undefined when it is not loaded yet. */
  lookup(id: string): DocState | undefined;
  /** `id` now holds `doc` at `position`; `state` is what `lookup(id)` gave for it during this event. */
  write(id: string, state: DocState, position: number, doc: JsonObject | null): void;
}

const NO_FAN_OUT: readonly FanOut[] = [];

/**
 * The order events come in. 'log': the global log's, where a document's position says which events
 * it has, so one seen again is skipped (the live projector, a rebuild in log order). 'streams': a
 * rebuild stream by stream (streamPass.ts), of a Projection.streamLocal: a stream's events are in
 * order, but fan-out documents get events of many streams out of log order, each exactly once, and
 * their positions guard nothing.
 */
export type EventOrder = 'log' | 'streams';

/**
 * Applies `event` (whose main document is `key`) to `docs`, or nothing when a document it needs is
 * not loaded: then it returns their ids, to be loaded before calling again. Fan-out documents are
 * known only once the main document has evolved, so a caller that loads lazily learns of them this
 * way; calling again gives the same result, as the projection's functions are pure. A projection
 * that throws leaves `docs` as they were.
 */
export function evolveDocs(projection: Projection, event: Recorded, key: string, docs: DocSource, order: EventOrder = 'log'): readonly string[] | undefined {
  const current = docs.lookup(key);
  if (!current) return [key];
  const position = event.position;
  if (current.position >= position) return undefined;
  let doc: JsonObject | null;
  let fanOut = NO_FAN_OUT;
  if (projection.evolveWithFanOut) ({ doc, fanOut } = projection.evolveWithFanOut(current.doc, event));
  else doc = projection.evolve(current.doc, event);
  // A document that did not exist and still does not is not written: most notifications are never
  // scheduled or dead-lettered, and a tombstone each would double the rows those read models write.
  const writesMain = doc !== null || current.doc !== null;
  if (fanOut.length === 0) {
    if (writesMain) docs.write(key, current, position, doc);
    return undefined;
  }
  const targets = fanOut.map((extra) => (extra.key === key ? current : docs.lookup(extra.key)));
  if (targets.some((t) => !t)) return fanOut.filter((_, j) => !targets[j]).map((extra) => extra.key);
  // undefined: not written. A document written earlier in this event is at its position already,
  // so a fan-out to it is skipped, as for any document that has the event. In stream order a
  // fan-out document meets events below its position that it does not have yet, so there only the
  // first of these counts (see EventOrder), and the document keeps the highest position it met.
  const inLogOrder = order === 'log';
  const evolved = fanOut.map((extra, j) => {
    const target = targets[j]!;
    const writtenBefore = (extra.key === key && writesMain) || fanOut.some((e, k) => k < j && e.key === extra.key);
    return writtenBefore || (inLogOrder && target.position >= position) ? undefined : extra.evolve(target.doc);
  });
  if (writesMain) docs.write(key, current, position, doc);
  for (let j = 0; j < fanOut.length; j += 1) {
    if (evolved[j] !== undefined) docs.write(fanOut[j]!.key, targets[j]!, inLogOrder ? position : Math.max(position, targets[j]!.position), evolved[j]!);
  }
  return undefined;
}
