/**
 * A persistent consumer's ack or nack on EventStoreDB is a write on its gRPC stream: one the
 * connection never takes (a peer that stopped reading, its flow-control window full) must end at
 * the call deadline as an outage, not hang the delivery worker. The SDK's subscription is stated
 * structurally (liveFeeds.ts), so one whose writes never complete stands in for that stream here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupFeed, type ClientGroupSubscription, type GroupDelivery } from '../../src/adapters/eventStore/esdb/liveFeeds.ts';
import { answerWithin, NoAnswerError } from '../../src/adapters/eventStore/esdb/deadline.ts';
import { EventNotHeldError } from '../../src/ports/eventStore.ts';

type Delivery = { event: { id: string; streamId: string; revision: bigint; type: string; data: unknown; created: Date; position: { commit: bigint; prepare: bigint } }; retryCount: number };

function stalledSubscription(deliveries: Delivery[]): ClientGroupSubscription<Delivery> & { writes: string[] } {
  const writes: string[] = [];
  const never = new Promise<void>(() => {});
  return {
    writes,
    async *[Symbol.asyncIterator]() {
      yield* deliveries;
    },
    ack: (r) => (writes.push(`ack ${r.event.id}`), never),
    nack: (action, _reason, r) => (writes.push(`${action} ${r.event.id}`), never),
    unsubscribe: async () => {},
    destroy: () => {},
  };
}

const delivery = (id: string): Delivery => ({ event: { id, streamId: 'notification-1', revision: 0n, type: 'NotificationRequested', data: {}, created: new Date(), position: { commit: 1n, prepare: 1n } }, retryCount: 0 });

describe('an EventStoreDB group feed', () => {
  it('ends an ack or nack the connection never takes at the call deadline, as an outage, and keeps the event held', { timeout: 10_000 }, async () => {
    const sub = stalledSubscription([delivery('e1'), delivery('e2')]);
    const feed = groupFeed(sub, async (e) => e, (what, call) => answerWithin(300, what, call));
    const iterator = feed.events[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as GroupDelivery;
    const second = (await iterator.next()).value as GroupDelivery;
    for (const settle of [() => feed.ack(first.ackId), () => feed.nack('retry', 'later', second.ackId)]) {
      const started = Date.now();
      await assert.rejects(settle(), (e: unknown) => e instanceof NoAnswerError && /0\.3 s/.test(e.message));
      const ms = Date.now() - started;
      assert.ok(ms >= 290 && ms < 2000, `settled after ${ms} ms`);
    }
    assert.deepEqual(sub.writes, ['ack e1', 'retry e2']);
    // Not settled: the handle is kept, so the worker may settle it again (and a stop drops it).
    await assert.rejects(feed.ack(first.ackId), NoAnswerError);
    await feed.stop();
    await assert.rejects(feed.ack(first.ackId), EventNotHeldError);
  });
});
