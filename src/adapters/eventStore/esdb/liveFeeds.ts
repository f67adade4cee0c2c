/**
 * The live feeds the client hands the subscriptions: a catch-up subscription's events, and a
 * persistent consumer's deliveries with the handles that ack or nack them over its connection.
 */
import { EventNotHeldError, type NackAction, type RecordedEvent } from '../../../ports/eventStore.ts';
import { toPortError } from './errors.ts';
import { toRecorded, type ClientRecord } from './records.ts';

export interface LiveFeed<T> {
  events: AsyncIterable<T>;
  stop(): Promise<void>;
}

export interface GroupDelivery {
  event: RecordedEvent;
  retryCount: number;
  ackId: string;
}

export interface GroupFeed extends LiveFeed<GroupDelivery> {
  ack(ackId: string): Promise<void>;
  nack(action: NackAction, reason: string, ackId: string): Promise<void>;
}

/** The SDK's persistent subscription and its deliveries, stated structurally so that only client.ts imports the SDK. */
interface ClientDelivery {
  event?: ClientRecord & { id: string };
  link?: ClientRecord;
  retryCount: number;
}

export interface ClientGroupSubscription<R extends ClientDelivery> extends AsyncIterable<R> {
  ack(r: R): Promise<void>;
  nack(action: 'park' | 'retry' | 'skip', reason: string, r: R): Promise<void>;
  unsubscribe(): Promise<void>;
  destroy(): void;
}

/**
 * A consumer's feed over its SDK subscription. `original` gives a replayed parked event its own
 * position (links.ts); `within` bounds an ack or nack (deadline.ts).
 */
export function groupFeed<R extends ClientDelivery>(
  sub: ClientGroupSubscription<R>,
  original: (e: RecordedEvent, link: RecordedEvent | undefined) => Promise<RecordedEvent>,
  within: <T>(what: string, call: Promise<T>) => Promise<T>,
): GroupFeed {
  const handles = new Map<string, R>();
  async function* events(): AsyncGenerator<GroupDelivery> {
    for await (const r of sub) {
      if (!r.event) continue;
      const ackId = r.link?.id ?? r.event.id;
      handles.set(ackId, r);
      // A replayed parked event comes resolved from its link, with the link's position.
      yield { event: await original(toRecorded(r.event), r.link && toRecorded(r.link)), retryCount: r.retryCount, ackId };
    }
  }
  const settle = async (ackId: string, send: (r: R) => Promise<void>) => {
    const handle = handles.get(ackId);
    // Settled already, or this call was stopped: writing to it would not reach the server.
    if (!handle) throw new EventNotHeldError(undefined, 'settled already, or its connection was stopped');
    await within('an ack or nack', send(handle)).catch((e: unknown) => { throw toPortError(e); });
    handles.delete(ackId);
  };
  return {
    events: events(),
    stop: async () => {
      handles.clear();
      await sub.unsubscribe();
      sub.destroy();
    },
    ack: (ackId) => settle(ackId, (r) => sub.ack(r)),
    // The server has no uncounted hand-back (its Stop action does nothing; a dropped consumer's
    // events are counted retries too): a release is a retry, parked past maxRetryCount.
    nack: (action, reason, ackId) => settle(ackId, (r) => sub.nack(action === 'release' ? 'retry' : action, reason, r)),
  };
}
