/**
 * Test fixture, not product: ESDB keeps a group's parked events as link events ($>) in the stream
 * `$persistentsubscription-$all::<group>-parked`, with the reason in the link's metadata. The
 * embedded engine keeps a parked list instead; this renders that list as such a stream.
 */
import { randomUUID } from 'node:crypto';
import type { SqliteEventStore } from '../../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import type { RecordedEvent } from '../../../src/ports/eventStore.ts';
import { json, toWire } from './proto.ts';

const PARKED = /^\$persistentsubscription-\$all::(.+)-parked$/;

export function parkedStreamGroup(stream: string): string | undefined {
  return PARKED.exec(stream)?.[1];
}

export interface ParkedLink {
  event: RecordedEvent;
  link: Link;
}

/** A link event ($>) of a parked stream, with its position in $all as it goes on the wire. */
export interface Link {
  record: RecordedEvent;
  data: Uint8Array;
  metadata: Uint8Array;
  wirePosition: string;
}

/**
 * What ESDB puts in a resolved event's position when the read has none for it (a stream read that
 * resolves a link): -1, as the unsigned 64-bit number it goes out as.
 */
export const NO_POSITION = '18446744073709551615';

/**
 * The link ESDB writes to the parked stream when it parks `event`. It has a position of its own in
 * $all, after its event's; here one between two of the engine's events, where no reader goes.
 */
export function parkedLink(stream: string, event: RecordedEvent, revision: number, reason: string, parkedAt: number): Link {
  const metadata = { reason, added: new Date(parkedAt).toISOString(), subscriptionEventNumber: event.revision };
  const record: RecordedEvent = { id: randomUUID(), streamName: stream, revision, position: event.position, type: '$>', data: {}, metadata, created: parkedAt };
  return { record, data: Buffer.from(`${event.revision}@${event.streamName}`, 'utf8'), metadata: json(metadata), wirePosition: String(toWire(event.position) + 1) };
}

export async function readParkedStream(store: SqliteEventStore, stream: string, engineGroup: string, fromRevision: number, maxCount: number): Promise<ParkedLink[]> {
  const parked = await store.listParked(engineGroup, { limit: 1_000_000 }).catch(() => []);
  return parked.slice(fromRevision, fromRevision + maxCount).map((p, i) => ({ event: p.event, link: parkedLink(stream, p.event, fromRevision + i, p.reason, p.parkedAt) }));
}
