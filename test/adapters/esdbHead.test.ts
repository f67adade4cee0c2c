import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEsdbEventStore } from '../../src/adapters/eventStore/esdb/esdbEventStore.ts';
import { Metrics } from '../../src/metrics.ts';
import { ev, takeN, uniquePrefix } from '../contracts/eventStore.contract.ts';
import { toWire } from '../fakes/esdb/proto.ts';
import { esdbServer } from '../support/esdbServer.ts';
import { eventually } from '../support/wait.ts';

describe('EventStoreDB adapter: the head of $all', () => {
  it('is the last event a subscription hands out, not the group checkpoint ESDB writes after it, so a caught-up group lags by 0', async () => {
    const { server, cleanup } = await esdbServer();
    const store = createEsdbEventStore(server.url);
    try {
      const prefix = uniquePrefix();
      const group = `${prefix}g`;
      await store.ensurePersistentSubscription(group, { filter: { streamPrefixes: [prefix] } });
      const { position } = await store.append(`${prefix}s`, [ev('A', 1)], 'no_stream');
      const sub = store.connectPersistentSubscription(group);
      const [taken] = await takeN(sub, 1);
      await sub.ack(taken!);
      await eventually(5000, 'the checkpoint at the event', async () => ((await store.persistentSubscriptionInfo(group)).checkpoint === position ? true : undefined));
      // The server wrote the checkpoint as an event of its own after the group's last one.
      await eventually(5000, 'the checkpoint event', async () => ((await server.store.readAll({ fromPosition: 0 })).some((e) => e.type === '$SubscriptionCheckpoint') ? true : undefined));
      assert.equal(await store.headPosition(), position);
      const metrics = new Metrics({ processMetrics: false });
      metrics.watchEventStore(store, () => [group]);
      assert.match((await metrics.render()).body, new RegExp(`herald_subscription_lag_events\\{group="${group}"\\} 0\n`));
      await sub.close();
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it('looks past more system events than one backwards read returns', async () => {
    const { server, cleanup } = await esdbServer();
    const store = createEsdbEventStore(server.url);
    try {
      assert.equal(await store.headPosition(), 0);
      const { position } = await store.append(`${uniquePrefix()}s`, [ev('A', 1)], 'no_stream');
      const system = Array.from({ length: 300 }, (_, n) => ({ type: '$SubscriptionCheckpoint', data: { n } }));
      await server.store.append('$persistentsubscription-$all::g-checkpoint', system, 'any');
      await server.store.append('$persistentSubscriptionConfig', [{ type: 'PersistentConfig1', data: { version: '2', entries: [] } }], 'any');
      assert.equal(await store.headPosition(), position);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it('stops looking after 20 pages of system events: the oldest position read stands in, at or past the last application event', async () => {
    const { server, cleanup } = await esdbServer();
    const store = createEsdbEventStore(server.url);
    try {
      const { position } = await store.append(`${uniquePrefix()}s`, [ev('A', 1)], 'no_stream');
      const system = Array.from({ length: 2_500 }, (_, n) => ({ type: '$statsCollected', data: { n } }));
      await server.store.append('$stats-127.0.0.1:2113', system, 'any');
      const end = await server.store.headPosition();
      // 2,000 read backwards from the end: the position of the 2,000th system event from the end.
      assert.equal(await store.headPosition(), toWire(end - 1_999));
      assert.ok(toWire(end - 1_999) > position);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it('is 0 when $all holds only system events', async () => {
    const { server, cleanup } = await esdbServer();
    const store = createEsdbEventStore(server.url);
    try {
      await server.store.append('$persistentSubscriptionConfig', [{ type: 'PersistentConfig1', data: { version: '2', entries: [] } }], 'any');
      assert.equal(await store.headPosition(), 0);
    } finally {
      await store.close();
      await cleanup();
    }
  });
});
