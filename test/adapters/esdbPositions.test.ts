import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEsdbEventStore } from '../../src/adapters/eventStore/esdb/esdbEventStore.ts';
import { positionAt } from '../../src/processors/rebuild.ts';
import { ev, uniquePrefix } from '../contracts/eventStore.contract.ts';
import { esdbServer } from '../support/esdbServer.ts';

const tick = () => new Promise((r) => setTimeout(r, 15));

describe('EventStoreDB adapter: positions are byte offsets, not consecutive numbers', () => {
  it('replay --until <time> finds the last event written by then, reading only from positions the store gave', async () => {
    const { server, cleanup } = await esdbServer();
    const store = createEsdbEventStore(server.url);
    try {
      assert.equal(await positionAt(store, new Date().toISOString()), 0, 'an empty store');
      const prefix = uniquePrefix();
      const written = [];
      for (let n = 0; n < 5; n++) {
        written.push(await store.append(`${prefix}${n}`, [ev('A', n)], 'no_stream'));
        await tick();
      }
      const events = await store.readAll({ filter: { streamPrefixes: [prefix] } });
      assert.ok(events.every((e, i) => i === 0 || e.position - events[i - 1]!.position > 1), 'the test server spreads positions out, as ESDB\'s are');
      for (const e of events) assert.equal(await positionAt(store, new Date(e.created).toISOString()), e.position);
      assert.equal(await positionAt(store, new Date(events[0]!.created - 1000).toISOString()), 0, 'before the first event');
      assert.equal(await positionAt(store, new Date(Date.now() + 60_000).toISOString()), written.at(-1)!.position);
    } finally {
      await store.close();
      await cleanup();
    }
  });
});
