import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEsdbEventStore } from '../../src/adapters/eventStore/esdb/esdbEventStore.ts';
import { ev, uniquePrefix } from '../contracts/eventStore.contract.ts';
import { esdbServer } from '../support/esdbServer.ts';
import { within } from '../support/wait.ts';

describe('EventStoreDB adapter: the server\'s own events', () => {
  it('never hands out an event of a $ stream, though its type has no $ (PersistentConfig1 in $persistentSubscriptionConfig)', async () => {
    const { server, cleanup } = await esdbServer();
    const store = createEsdbEventStore(server.url);
    try {
      const prefix = uniquePrefix();
      // ESDB writes its persistent subscriptions' settings so, whenever a group is created or changed.
      await server.store.append('$persistentSubscriptionConfig', [{ type: 'PersistentConfig1', data: { version: '2', entries: [] } }], 'any');
      await store.append(`${prefix}s`, [ev('A', 1)], 'no_stream');
      assert.deepEqual((await store.readAll()).map((e) => e.streamName), [`${prefix}s`]);
      const sub = store.subscribeToAll();
      assert.deepEqual((await within(3000, 'the first events', sub.nextBatch(10))).map((e) => e.streamName), [`${prefix}s`]);
      await sub.close();
    } finally {
      await store.close();
      await cleanup();
    }
  });
});
