import type { RecordedEvent } from '../../../ports/eventStore.ts';
import { Generations } from '../../../generations.ts';

/** Longer streams are read from the table every time: holding them would cost more than it saves. */
const MAX_CACHED_EVENTS = 1_000;
/** Events a generation may hold, whatever the number of streams: what bounds the memory. */
const EVENTS_PER_GENERATION = 50_000;

/**
 * The events of recently read streams on one connection, from revision 0 on. Nearly every
 * notification reads the same few streams again and again (its user's, its category's) and its
 * own stream right after the delivery group handed over its first event. Reading a stream's rows
 * costs an index walk and a table lookup per event, with a page cache that another thread's
 * commit has just emptied; checking the stream's revision first (one seek in the stream index) and
 * reading only the rows past what is held here costs a fraction of that. Rows never change once
 * written, so what is held stays right; consumers must treat events as immutable (one event
 * object is handed to every reader on this connection).
 *
 * Two generations (src/generations.ts): the streams not read during the last `perGeneration`
 * new entries (or the last `EVENTS_PER_GENERATION` events held) are dropped together.
 */
export class StreamCache {
  private readonly streams: Generations<string, RecordedEvent[]>;

  constructor(perGeneration = 10_000, eventsPerGeneration = EVENTS_PER_GENERATION) {
    // An entry replaced counts its events again: the budget is an upper bound.
    this.streams = new Generations(perGeneration, eventsPerGeneration, (events) => events.length);
  }

  /** The events held for `stream`, revisions 0 … length − 1; the caller must not change the array. */
  get(stream: string): readonly RecordedEvent[] | undefined {
    return this.streams.get(stream);
  }

  /** Holds `events` (revisions 0 … n − 1 of `stream`, in order) as what the stream starts with. */
  set(stream: string, events: RecordedEvent[]): void {
    if (events.length > MAX_CACHED_EVENTS) return;
    this.streams.set(stream, events);
  }

  /**
   * An event read from the log (a delivery group's page): the first event of a stream starts its
   * entry, and the next revision of a held stream extends it, so the worker that reads the stream
   * right after needs none of its rows.
   */
  seen(event: RecordedEvent): void {
    if (event.revision === 0) {
      if (!this.get(event.streamName)) this.set(event.streamName, [event]);
      return;
    }
    const held = this.get(event.streamName);
    if (held && held.length === event.revision) this.set(event.streamName, [...held, event]);
  }
}
