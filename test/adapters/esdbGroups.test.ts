import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventStoreDBClient, eventTypeFilter, persistentSubscriptionToAllSettingsFromDefaults } from '@eventstore/db-client';
import { createEsdbEventStore, type EsdbEventStore } from '../../src/adapters/eventStore/esdb/esdbEventStore.ts';
import type { PersistentEvent } from '../../src/ports/eventStore.ts';
import { takeN, uniquePrefix } from '../contracts/eventStore.contract.ts';
import { esdbServer, recordingLogger } from '../support/esdbServer.ts';
import { eventually, nothingWithin } from '../support/wait.ts';

/** Takes and acks events until every `wanted` number was seen; returns every number seen. */
async function drain(store: EsdbEventStore, group: string, wanted: number[]): Promise<number[]> {
  const sub = store.connectPersistentSubscription(group);
  const seen: number[] = [];
  try {
    while (!wanted.every((n) => seen.includes(n))) {
      const [e] = await takeN(sub, 1, 5000);
      seen.push((e as PersistentEvent).event.data.n as number);
      await sub.ack(e!);
    }
    await eventually(3000, 'the acks to land', async () => ((await store.persistentSubscriptionInfo(group)).inFlight === 0 ? true : undefined));
  } finally {
    await sub.close();
  }
  return seen;
}

describe('EventStoreDB adapter: a group whose filter changes', () => {
  it('is recreated from its checkpoint with the new filter, once per change, also when an older version created it', async () => {
    const { server, cleanup } = await esdbServer();
    const warnings: string[] = [];
    const open = () => createEsdbEventStore(server.url, recordingLogger(warnings));
    const prefix = uniquePrefix();
    const [A, B, C] = ['A', 'B', 'C'].map((t) => `${prefix}${t}`) as [string, string, string];
    const group = `${prefix}g`;
    const append = (store: EsdbEventStore, n: number, type: string) => store.append(`${prefix}${n}`, [{ type, data: { n } }], 'no_stream');
    // A group as an older version created it: the filter on the server, no record of it.
    const sdk = EventStoreDBClient.connectionString(server.url);
    let store = open();
    try {
      await sdk.createPersistentSubscriptionToAll(group, persistentSubscriptionToAllSettingsFromDefaults(), { filter: eventTypeFilter({ prefixes: [A] }) });
      await append(store, 0, A);
      await append(store, 1, A);
      await append(store, 2, B);
      assert.deepEqual(await drain(store, group, [0, 1]), [0, 1], 'the old filter: B is not the group\'s');

      await store.ensurePersistentSubscription(group, { filter: { eventTypes: [A, B] } });
      await append(store, 3, B);
      const afterUpgrade = await drain(store, group, [2, 3]);
      // From the old checkpoint on (ESDB's start is inclusive: the last event acked may come again), not from the start.
      assert.deepEqual(afterUpgrade.filter((n) => n !== 1).sort(), [2, 3], `${afterUpgrade.join(',')}`);
      assert.equal(warnings.filter((w) => w.startsWith('recreating')).length, 1);

      // Another start with the same filter leaves the group (and its checkpoint) as it is.
      await store.close();
      store = open();
      await store.ensurePersistentSubscription(group, { filter: { eventTypes: [B, A] } });
      assert.equal(warnings.filter((w) => w.startsWith('recreating')).length, 1, 'the same filter in another order: not recreated');
      const sub = store.connectPersistentSubscription(group);
      assert.equal(await nothingWithin(500, sub.nextBatch(1)), undefined, 'nothing handed out again');
      await sub.close();

      await store.ensurePersistentSubscription(group, { filter: { eventTypes: [A, B, C] } });
      await append(store, 4, C);
      assert.deepEqual((await drain(store, group, [4])).filter((n) => n !== 3), [4], 'only the new event (and perhaps the last one acked)');
      assert.equal(warnings.filter((w) => w.startsWith('recreating')).length, 2);
    } finally {
      await store.close();
      await sdk.dispose();
      await cleanup();
    }
  });

  it('is created once, and not recreated, when several instances start on it at the same moment', async () => {
    const { server, cleanup } = await esdbServer();
    const warnings: string[] = [];
    const stores = [1, 2, 3].map(() => createEsdbEventStore(server.url, recordingLogger(warnings)));
    const prefix = uniquePrefix();
    try {
      await Promise.all(stores.map((s) => s.ensurePersistentSubscription(`${prefix}g`, { filter: { eventTypes: [`${prefix}A`] } })));
      assert.deepEqual(warnings, []);
      assert.deepEqual((await stores[0]!.readStream(`herald-persistent-group-${prefix}g`)).map((e) => e.type), ['HeraldGroupFilterSet']);
    } finally {
      for (const s of stores) await s.close();
      await cleanup();
    }
  });

  it('holding parked events, keeps its filter (recreating would delete them) and says what to do', async () => {
    const { server, cleanup } = await esdbServer();
    const lines: string[] = [];
    const store = createEsdbEventStore(server.url, recordingLogger(lines));
    const prefix = uniquePrefix();
    const group = `${prefix}g`;
    try {
      await store.ensurePersistentSubscription(group, { filter: { eventTypes: [`${prefix}A`] } });
      await store.append(`${prefix}1`, [{ type: `${prefix}A`, data: { n: 1 } }], 'no_stream');
      const sub = store.connectPersistentSubscription(group);
      const [e] = await takeN(sub, 1);
      await sub.nack('park', 'poison', e!);
      await eventually(3000, 'the event parked', async () => ((await store.listParked(group)).length === 1 ? true : undefined));
      await sub.close();

      await store.ensurePersistentSubscription(group, { filter: { eventTypes: [`${prefix}A`, `${prefix}B`] } });
      assert.equal((await store.listParked(group)).length, 1, 'the parked event is still there');
      assert.ok(lines.some((l) => l.includes('holds 1 parked events') && l.includes('redrive')), lines.join('\n'));
    } finally {
      await store.close();
      await cleanup();
    }
  });
});
