import type { EventData, RecordedEvent } from '../ports/eventStore.ts';
import type { HeraldEvent, HeraldEventType, Recorded } from '../domain/events.ts';
import { eventSchemas } from './eventSchemas.ts';

export const HERALD_EVENT_TYPES = Object.keys(eventSchemas) as HeraldEventType[];

export class UnreadableEventError extends Error {
  readonly code = 'unreadable_event';
  constructor(readonly event: RecordedEvent, detail: string) {
    super(`event ${event.type} at ${event.streamName}@${event.revision} cannot be read: ${detail}`);
  }
}

const isKnown = (type: string): type is HeraldEventType => Object.hasOwn(eventSchemas, type);

/** Validates a stored event; unknown types give null (other writers share $all), bad data throws. */
export function decodeEvent(event: RecordedEvent): Recorded | null {
  if (!isKnown(event.type)) return null;
  const parsed = eventSchemas[event.type].safeParse(event.data);
  if (!parsed.success) throw new UnreadableEventError(event, parsed.error.message);
  return {
    type: event.type,
    data: parsed.data,
    streamName: event.streamName,
    revision: event.revision,
    position: event.position,
    metadata: event.metadata,
  } as Recorded;
}

export function encodeEvent(event: HeraldEvent, metadata: Record<string, unknown> = {}): EventData {
  return { type: event.type, data: event.data as unknown as Record<string, unknown>, metadata };
}
