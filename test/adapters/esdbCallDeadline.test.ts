import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEsdbEventStore } from '../../src/adapters/eventStore/esdb/esdbEventStore.ts';
import { callDeadlineOf } from '../../src/adapters/eventStore/esdb/deadline.ts';
import { isStoreOutage } from '../../src/processors/storeOutage.ts';
import { EventNotHeldError } from '../../src/ports/eventStore.ts';
import { ev, takeN, uniquePrefix } from '../contracts/eventStore.contract.ts';
import { esdbServer } from '../support/esdbServer.ts';
import { within } from '../support/wait.ts';

const noAnswer = (e: unknown) => isStoreOutage(e) && /did not answer within 0\.3 s/.test(e.message);

describe('EventStoreDB adapter: every call has a deadline', () => {
  it('after a reconnect to a node that takes the connection and never answers, each call fails as an outage instead of waiting for ever', { timeout: 60_000 }, async () => {
    const { server, cleanup } = await esdbServer();
    const store = createEsdbEventStore(server.url, undefined, { callDeadlineMs: 300 });
    try {
      const prefix = uniquePrefix();
      const group = `${prefix}g`;
      await store.ensurePersistentSubscription(group, { filter: { streamPrefixes: [prefix] } });
      const sub = store.connectPersistentSubscription(group);
      await store.append(`${prefix}1`, [ev('A', 1)], 'no_stream');
      const [held] = await takeN(sub, 1);
      // The consumer's connection drops, so the client reconnects, and finds a node that never answers.
      await server.stopAnswering();
      const calls: [string, () => Promise<unknown>][] = [
        ['append', () => store.append(`${prefix}1`, [ev('A', 2)], 'any')],
        ['append again', () => store.append(`${prefix}1`, [ev('A', 3)], 'any')],
        ['readStream', () => store.readStream(`${prefix}1`)],
        ['readAll', () => store.readAll({ maxCount: 10 })],
        ['headPosition', () => store.headPosition()],
        ['persistentSubscriptionInfo', () => store.persistentSubscriptionInfo(group)],
        ['listParked', () => store.listParked(group)],
        ['replayParked', () => store.replayParked(group)],
        ['ack', () => sub.ack(held!)],
      ];
      for (const [name, call] of calls) {
        const started = Date.now();
        // Whatever meets the dropped connection first may fail at once as unavailable; the rest wait
        // for the deadline. The ack's connection was dropped, so it is refused at once as not held
        // (an ack the connection never takes is pinned in esdbGroupFeed.test.ts).
        await assert.rejects(within(5000, name, call()), (e: unknown) => (name === 'ack' ? e instanceof EventNotHeldError : isStoreOutage(e)), name);
        assert.ok(Date.now() - started < 3000, `${name} took ${Date.now() - started} ms`);
      }
      await assert.rejects(within(5000, 'an append', store.append(`${prefix}1`, [ev('A', 4)], 'any')), noAnswer);
      await assert.rejects(within(5000, 'a read', store.readStream(`${prefix}1`)), noAnswer);
      await within(5000, 'close', store.close());
    } finally {
      // Bounded: on a failure above, a read still waiting would hold close() for ever.
      await within(5000, 'close', store.close()).catch(() => undefined);
      await cleanup();
    }
  });

  it('the deadline is the SDK\'s defaultDeadline from EVENTSTORE_URL, else 10 s', () => {
    assert.equal(callDeadlineOf('esdb://localhost:2113?tls=false&defaultDeadline=2500'), 2500);
    assert.equal(callDeadlineOf('esdb://localhost:2113?DefaultDeadline=700'), 700);
    assert.equal(callDeadlineOf('esdb://localhost:2113?tls=false'), 10_000);
  });
});
