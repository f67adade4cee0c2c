/**
 * The event store port's errors (ports/eventStore.ts re-exports them): each with a stable `code`,
 * and the ones callers act on, a conflict to decide again, an outage to ride out (processors/
 * storeOutage.ts), an event no longer held, parked events the credentials cannot read.
 */
import type { ExpectedRevision } from './eventStore.ts';

export class WrongExpectedRevisionError extends Error {
  readonly code = 'wrong_expected_revision';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(`stream ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/**
 * An ack or nack of an event the consumer no longer holds, which therefore did not count: the
 * consumer was closed, or its connection to the group was lost (EventStoreDB had already handed
 * the event out again), or it had settled the event already. The group delivers it again; to a
 * delivery worker that is a failed ack like any other (the event is worked on again, and what was
 * recorded for it keeps it from being sent twice).
 */
export class EventNotHeldError extends Error {
  readonly code = 'event_not_held';
  constructor(
    readonly position: number | undefined,
    reason: string,
  ) {
    super(`${position === undefined ? 'an event' : `the event at position ${position}`} was not settled: this consumer no longer holds it (${reason}); the group hands it out again`);
    this.name = 'EventNotHeldError';
  }
}

export class EventStoreUnavailableError extends Error {
  readonly code = 'event_store_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventStoreUnavailableError';
  }
}

/** The store would not list a group's parked events for these credentials (EventStoreDB: the user lacks read access to `$persistentsubscription-*` streams). */
export class ParkedEventsUnreadableError extends Error {
  readonly code = 'parked_events_unreadable';
  constructor(readonly group: string, options?: { cause?: unknown }) {
    super(`the event store refused to list the parked events of ${group}: give the user Herald connects as read access to the $persistentsubscription-* streams (in EventStoreDB, a member of $ops or $admins)`, options);
    this.name = 'ParkedEventsUnreadableError';
  }
}
