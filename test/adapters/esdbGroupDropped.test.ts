import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventStoreDBClient } from '@eventstore/db-client';
import { createEsdbEventStore } from '../../src/adapters/eventStore/esdb/esdbEventStore.ts';
import type { PersistentEvent, PersistentSubscription } from '../../src/ports/eventStore.ts';
import { ev, takeN, uniquePrefix } from '../contracts/eventStore.contract.ts';
import { esdbServer, recordingLogger } from '../support/esdbServer.ts';
import { eventually, within } from '../support/wait.ts';

/** Takes and acks events until one with data.n = `n` comes. */
async function until(sub: PersistentSubscription, n: number): Promise<PersistentEvent> {
  for (;;) {
    const [e] = await takeN(sub, 1, 15_000);
    await sub.ack(e!);
    if (e!.event.data.n === n) return e!;
  }
}

describe('EventStoreDB adapter: a consumer whose group the server dropped', () => {
  it('creates the deleted group again and resubscribes, with backoff, logged', async () => {
    const { server, cleanup } = await esdbServer();
    const warnings: string[] = [];
    const store = createEsdbEventStore(server.url, recordingLogger(warnings));
    const sdk = EventStoreDBClient.connectionString(server.url);
    try {
      const prefix = uniquePrefix();
      const group = `${prefix}g`;
      await store.ensurePersistentSubscription(group, { filter: { streamPrefixes: [prefix] } });
      const sub = store.connectPersistentSubscription(group);
      await store.append(`${prefix}0`, [ev('A', 0)], 'no_stream');
      await until(sub, 0);

      await sdk.deletePersistentSubscriptionToAll(group); // an operator, say
      await eventually(5000, 'the drop logged', () => (warnings.some((w) => w.includes('resubscribing')) ? true : undefined));
      await store.append(`${prefix}1`, [ev('A', 1)], 'no_stream');
      assert.equal((await until(sub, 1)).event.data.n, 1);
      assert.ok(await sdk.getPersistentSubscriptionToAllInfo(group), 'the group is there again');
      await sub.close();
    } finally {
      await sdk.dispose();
      await store.close();
      await cleanup();
    }
  });

  it('an update by another instance (which restarts the group) is a plain resubscribe: the two do not update it back and forth', async () => {
    const { server, cleanup } = await esdbServer();
    const a = createEsdbEventStore(server.url, recordingLogger([]));
    const b = createEsdbEventStore(server.url, recordingLogger([]));
    try {
      const prefix = uniquePrefix();
      const group = `${prefix}g`;
      await a.ensurePersistentSubscription(group, { filter: { streamPrefixes: [prefix] }, maxInFlight: 10 });
      const subA = a.connectPersistentSubscription(group);
      await a.append(`${prefix}0`, [ev('A', 0)], 'no_stream');
      await until(subA, 0);
      // Another instance with other sizes (a rolling deploy, another rate): its start-up updates the group once.
      await b.ensurePersistentSubscription(group, { filter: { streamPrefixes: [prefix] }, maxInFlight: 20 });
      const subB = b.connectPersistentSubscription(group);
      await new Promise((resolve) => setTimeout(resolve, 4000));
      assert.equal(server.groupUpdates.get(group), 1, 'only the second instance\'s start-up updated the group');
      // Still subscribed: the group's next events reach its consumers (round robin: A gets one of two).
      await a.append(`${prefix}1`, [ev('A', 1)], 'no_stream');
      await a.append(`${prefix}2`, [ev('A', 2)], 'no_stream');
      const [first] = await takeN(subA, 1, 10_000);
      await subA.ack(first!);
      await subA.close();
      await subB.close();
    } finally {
      await a.close();
      await b.close();
      await cleanup();
    }
  });

  it('stops, and leaves the group as it is, when another version recreated it with another filter', async () => {
    const { server, cleanup } = await esdbServer();
    const store = createEsdbEventStore(server.url, recordingLogger([]));
    const other = createEsdbEventStore(server.url);
    try {
      const prefix = uniquePrefix();
      const group = `${prefix}g`;
      await store.ensurePersistentSubscription(group, { filter: { eventTypes: [`${prefix}A`] } });
      const sub = store.connectPersistentSubscription(group);
      await other.ensurePersistentSubscription(group, { filter: { eventTypes: [`${prefix}A`, `${prefix}B`] } });
      await assert.rejects(within(15_000, 'the consumer to stop', sub.nextBatch(1)), (e: unknown) => e instanceof Error && e.name === 'GroupFilterChangedError');
      const record = await store.readStream(`herald-persistent-group-${group}`);
      assert.deepEqual(record.at(-1)?.data.filter, { on: 'type', prefixes: [`${prefix}A`, `${prefix}B`] });
      await sub.close();
    } finally {
      await other.close();
      await store.close();
      await cleanup();
    }
  });
});
