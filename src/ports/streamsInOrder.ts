/**
 * The shapes of the event store port's optional `readStreamsInOrder` (ports/eventStore.ts
 * re-exports them): the log stream by stream, in pages of whole streams, for rebuilds of read
 * models whose documents each belong to one stream.
 */
import type { RecordedEvent } from './eventStore.ts';

export interface ReadStreamsOptions {
  /** Exclusive: the streams whose first event is after this position. */
  afterFirst: number;
  /** Inclusive: no event after this position, and no stream that begins after it. */
  until: number;
  /** Streams per page. */
  maxStreams: number;
  /** Only events of these types are returned; a stream with none of them still counts in the page. */
  eventTypes?: readonly string[];
}

export interface StreamsPage {
  /** The page's streams in the order of their first event; each one's events up to `until`, in revision order. */
  streams: StreamRead[];
  /** Position of the first event of the page's last stream: the next page's `afterFirst`. 0 when there are no more streams. */
  lastFirst: number;
}

export interface StreamRead {
  name: string;
  /** Position of the stream's first event, whether its type was asked for or not. */
  first: number;
  events: RecordedEvent[];
}
