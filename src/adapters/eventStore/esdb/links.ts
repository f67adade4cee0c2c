/**
 * Events that ESDB hands out resolved from a link: a group's parked events (links in
 * `$persistentsubscription-$all::<group>-parked`), read or replayed. Such an event carries the
 * link's position, or none (-1, which arrives as 2^64 - 1), never its own; readers tell events
 * apart by position (a delivery worker's in-flight set), so a link's would make one event two.
 */
import { AccessDeniedError } from '@eventstore/db-client';
import { ParkedEventsUnreadableError, type ParkedEvent, type RecordedEvent } from '../../../ports/eventStore.ts';
import type { EsdbClient } from './client.ts';
import { parkedFromLink } from './records.ts';

/** Reads the events of a stream from a revision, at most `maxCount`, resolving links or not. */
type Reader = Pick<EsdbClient, 'readStream'>;

/** Parked events whose positions are read at a time. */
const POSITION_READS = 16;

/** A position ESDB gave for an event in $all (not -1 for "none"). */
const isPosition = (p: number) => Number.isSafeInteger(p) && p > 0;

/** The event with its own position in $all, read from its stream when it came resolved from a link. */
export async function originalPosition(client: Reader, event: RecordedEvent, link: RecordedEvent | undefined): Promise<RecordedEvent> {
  if (!link || (isPosition(event.position) && event.position !== link.position)) return event;
  const [found] = await client.readStream(event.streamName, event.revision, 1);
  if (found && found.event.id === event.id && isPosition(found.event.position)) return { ...event, position: found.event.position };
  // Not where the link says (its stream truncated or deleted since): the link's position at least tells it apart.
  return { ...event, position: isPosition(link.position) ? link.position : 0 };
}

/** The group's parked events with their reasons (from the links' metadata) and their own positions. */
export async function readParked(client: Reader, group: string, limit: number): Promise<ParkedEvent[]> {
  const entries = await client.readStream(`$persistentsubscription-$all::${group}-parked`, 0, limit, true).catch((error: unknown) => {
    // A $ stream: credentials outside $ops and $admins may not read it. Said so, never read as "none parked".
    throw error instanceof AccessDeniedError ? new ParkedEventsUnreadableError(group, { cause: error }) : error;
  });
  const parked: ParkedEvent[] = [];
  for (let i = 0; i < entries.length; i += POSITION_READS) {
    const chunk = entries.slice(i, i + POSITION_READS);
    parked.push(...(await Promise.all(chunk.map(async (e) => parkedFromLink({ ...e, event: await originalPosition(client, e.event, e.link) })))));
  }
  return parked;
}
