/**
 * Test fixture, not product: ESDB keeps a group's parked events as link events ($>) in the stream
 * `$persistentsubscription-$all::<group>-parked`, with the reason in the link's metadata. The
 * embedded engine keeps a parked list instead; this renders that list as such a stream.
 */
import { randomUUID } from 'node:crypto';
import type { SqliteEventStore } from '../../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import type { RecordedEvent } from '../../../src/ports/eventStore.ts';
import { json } from './proto.ts';

const PARKED = /^\$persistentsubscription-\$all::(.+)-parked$/;

export function parkedStreamGroup(stream: string): string | undefined {
  return PARKED.exec(stream)?.[1];
}

export interface ParkedLink {
  event: RecordedEvent;
  link: { record: RecordedEvent; data: Uint8Array; metadata: Uint8Array };
}

export async function readParkedStream(store: SqliteEventStore, stream: string, group: string, fromRevision: number, maxCount: number): Promise<ParkedLink[]> {
  const parked = await store.listParked(group, { limit: 1_000_000 }).catch(() => []);
  return parked.slice(fromRevision, fromRevision + maxCount).map((p, i) => {
    const metadata = { reason: p.reason, added: new Date(p.parkedAt).toISOString(), subscriptionEventNumber: p.event.revision };
    const record: RecordedEvent = {
      id: randomUUID(),
      streamName: stream,
      revision: fromRevision + i,
      position: p.event.position,
      type: '$>',
      data: {},
      metadata,
      created: p.parkedAt,
    };
    return { event: p.event, link: { record, data: Buffer.from(`${p.event.revision}@${p.event.streamName}`, 'utf8'), metadata: json(metadata) } };
  });
}
