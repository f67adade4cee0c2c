import type { JsonObject, ParkedEvent, PersistentSubscriptionSettings, RecordedEvent } from '../../../ports/eventStore.ts';

/** Where a persistent subscription group starts: $all's start or end, or the position of the event it starts at. */
export type GroupStart = 'start' | 'end' | number;

/** Shapes of the SDK's records, stated structurally so that only client.ts imports the SDK. */
export interface ClientRecord {
  id: string;
  streamId: string;
  revision: bigint;
  type: string;
  data: unknown;
  metadata?: unknown;
  created: Date;
  position?: { commit: bigint; prepare: bigint };
}

const asObject = (value: unknown): JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) ? (value as JsonObject) : {};

export function toRecorded(e: ClientRecord): RecordedEvent {
  return {
    id: e.id,
    streamName: e.streamId,
    revision: Number(e.revision),
    position: e.position ? Number(e.position.commit) : 0,
    type: e.type,
    data: asObject(e.data),
    metadata: asObject(e.metadata),
    created: e.created.getTime(),
  };
}

/** ESDB writes ParkedMessageMetadata with .NET naming; accept either case, strings only. */
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** A parked event is a link whose metadata carries the reason and when it was parked. */
export function parkedFromLink({ event, link }: { event: RecordedEvent; link?: RecordedEvent }): ParkedEvent {
  const meta = link?.metadata ?? {};
  const added = Date.parse(text(meta.added ?? meta.Added));
  return { event, reason: text(meta.reason ?? meta.Reason), parkedAt: Number.isNaN(added) ? (link?.created ?? event.created) : added };
}

/**
 * ESDB sizes buffers, not a group-wide in-flight limit (each consumer's bufferSize carries
 * maxInFlight); checkpoints are written after every settled event within 100 ms, so redelivery
 * after a crash stays small.
 */
export function groupSizing(s: PersistentSubscriptionSettings) {
  const readBatchSize = Math.max(1, Math.min(s.maxInFlight ?? 64, 500));
  return {
    maxRetryCount: s.maxRetryCount ?? 10,
    messageTimeout: s.messageTimeoutMs ?? 30_000,
    readBatchSize,
    historyBufferSize: Math.max(readBatchSize * 4, 64),
    liveBufferSize: Math.max(readBatchSize * 4, 64),
    checkPointLowerBound: 1,
    checkPointUpperBound: Math.max(readBatchSize, 10),
    checkPointAfter: 100,
  };
}
