/**
 * The event store port. It mirrors EventStoreDB's model so that its adapter is a thin mapping:
 * streams with revisions, an ordered global log ($all) with positions, catch-up subscriptions and
 * persistent subscription groups (competing consumers) with ack / nack(retry | park | skip | release).
 *
 * Numbering, which every adapter agrees on:
 * - a stream's first event has revision 0; `nextExpectedRevision` after appending is the revision
 *   of the last event written;
 * - global positions are strictly increasing integers (EventStoreDB's commit position, which stays
 *   far below 2^53); position 0 means "before the first event". They are not consecutive (ESDB's
 *   are byte offsets in its log), so a position is only ever one a store gave: an event's, an
 *   append's, `headPosition()`, a group's checkpoint. A number computed from them (p - 1, a
 *   midpoint) is not one, and EventStoreDB refuses to read from it.
 *
 * The port's errors are in eventStoreErrors.ts, and the shapes of `readStreamsInOrder` in
 * streamsInOrder.ts; both are imported from here, as the rest of the port is.
 */
import type { EventFilter } from './eventFilter.ts';
import type { ReadStreamsOptions, StreamsPage } from './streamsInOrder.ts';

export type { ReadStreamsOptions, StreamRead, StreamsPage } from './streamsInOrder.ts';
export { EventNotHeldError, EventStoreUnavailableError, ParkedEventsUnreadableError, WrongExpectedRevisionError } from './eventStoreErrors.ts';

export type JsonObject = { [key: string]: unknown };

export interface EventData {
  /** Event id; adapters generate one when absent. Used by EventStoreDB for idempotent appends. */
  id?: string;
  type: string;
  data: JsonObject;
  metadata?: JsonObject;
}

export interface RecordedEvent {
  id: string;
  streamName: string;
  revision: number;
  position: number;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
  /** When the store wrote it, as epoch milliseconds. */
  created: number;
}

/** `no_stream`: must not exist; `stream_exists`: must exist; `any`; or the exact last revision. */
export type ExpectedRevision = 'no_stream' | 'stream_exists' | 'any' | number;

export interface AppendResult {
  nextExpectedRevision: number;
  position: number;
}

/** One stream's part of `appendInOrder`. */
export interface StreamAppend {
  stream: string;
  events: readonly EventData[];
  expected: ExpectedRevision;
}

export interface ReadStreamOptions {
  fromRevision?: number;
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events with a position greater than this. Default 0 (from the start); otherwise a position the store gave (see the numbering above). */
  fromPosition?: number;
  maxCount?: number;
  filter?: EventFilter;
}

/** A live, ordered stream of events; `for await` it, then `close()` (or break out of the loop). */
export interface Subscription<T> extends AsyncIterable<T> {
  /**
   * Waits for at least one item, then returns it with whatever else is ready, up to `max`; an
   * empty array once closed. Lets batch consumers (projections) amortise their writes.
   */
  nextBatch(max: number): Promise<T[]>;
  close(): Promise<void>;
}

export interface PersistentSubscriptionSettings {
  filter?: EventFilter;
  /** Where a new group starts. Default: the start of $all. */
  startFrom?: 'start' | 'end';
  /** Deliveries of one event before it is parked. Default 10. */
  maxRetryCount?: number;
  /** An event not acked within this many ms is delivered again. Default 30,000. */
  messageTimeoutMs?: number;
  /** At most this many unacknowledged events are out across all consumers. Default 64. */
  maxInFlight?: number;
}

export interface PersistentEvent {
  event: RecordedEvent;
  /** How many times this event was delivered before (0 on first delivery), less the releases where a store leaves those out. */
  retryCount: number;
}

/**
 * `retry`: deliver it again, counted against maxRetryCount (past it, parked); `park`; `skip`;
 * `release`: hand it back unworked (a stopping consumer that never got to it), delivered again as
 * a retry is, but not counted: a delivery never tried must not be parked because its workers kept
 * stopping. Only where the store can: the embedded store does; EventStoreDB's server counts every
 * nack and every dropped consumer's events as a retry, so there a release is a retry.
 */
export type NackAction = 'retry' | 'park' | 'skip' | 'release';

export interface PersistentSubscription extends Subscription<PersistentEvent> {
  /**
   * Settles an event this consumer took. Rejects with EventNotHeldError when the consumer does not
   * hold it (closed, its connection was lost, it settled it already, or another consumer took it):
   * nothing was settled; the group hands it out again, or its holder settles it. The embedded
   * store also rejects the late answer of a consumer whose message timed out; EventStoreDB's
   * server takes that one (docs/esdb.md).
   */
  ack(e: PersistentEvent): Promise<void>;
  nack(action: NackAction, reason: string, e: PersistentEvent): Promise<void>;
  /**
   * Takes no more events but stays connected, so that acks and nacks of the events this consumer
   * holds still reach the group: a pending `nextBatch` and every later one resolve [], and a
   * `for await` loop ends (without closing). For a consumer that is stopping: settle what it
   * holds, then `close()`. Closing at once would hand those events to the other consumers while
   * they are still being worked on here, and they would be worked on twice.
   */
  stopTaking(): Promise<void>;
}

export interface ParkedEvent {
  event: RecordedEvent;
  reason: string;
  parkedAt: number;
}

export interface PersistentSubscriptionInfo {
  group: string;
  /** Every event at or below this position has been acked, skipped or parked. */
  checkpoint: number;
  inFlight: number;
  parked: number;
}

export interface EventStore {
  append(stream: string, events: readonly EventData[], expected: ExpectedRevision): Promise<AppendResult>;
  /**
   * Appends to several streams in order, each against its own expected revision, and stops at the
   * first that does not match: that one rejects the call (WrongExpectedRevisionError names its
   * stream), the appends before it are kept and those from it on are not written. For a command
   * that writes a decision to one stream and what follows from it to others (a rate slot, then the
   * notifications it admits). The embedded store writes them in one transaction, so one commit and
   * one fsync, and a crash keeps all of them or none; EventStoreDB appends them one after another.
   */
  appendInOrder(appends: readonly StreamAppend[]): Promise<AppendResult[]>;
  /** The stream's events in order; an empty array when the stream does not exist. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * Optional: the log up to `until` stream by stream, in pages of whole streams taken in the order
   * of their first event. For rebuilds of read models whose documents each belong to one stream
   * (Projection.streamLocal): all of a document's events come together, so each document is built
   * and written once, right away, instead of being held from its first event to its last. A store
   * that cannot list its streams that way leaves it out, and rebuilds read `$all` in order.
   */
  readStreamsInOrder?(options: ReadStreamsOptions): Promise<StreamsPage>;
  /**
   * Position of the last application event in $all (0 when there is none): the last one a
   * subscription would hand out. A store's own system events (EventStoreDB's checkpoints) do not
   * count, so that a caught-up reader is at the head.
   */
  headPosition(): Promise<number>;
  /** Catch-up subscription to $all: history after `fromPosition`, then live events. */
  subscribeToAll(options?: ReadAllOptions): Subscription<RecordedEvent>;
  /** Creates the group if missing; an existing group keeps its checkpoint and parked events. */
  ensurePersistentSubscription(group: string, settings: PersistentSubscriptionSettings): Promise<void>;
  /** Joins the group as one competing consumer; each event goes to one consumer at a time. */
  connectPersistentSubscription(group: string): PersistentSubscription;
  persistentSubscriptionInfo(group: string): Promise<PersistentSubscriptionInfo>;
  listParked(group: string, options?: { limit?: number }): Promise<ParkedEvent[]>;
  /** Delivers parked events to the group again; returns how many were replayed. */
  replayParked(group: string): Promise<number>;
  close(): Promise<void>;
}
