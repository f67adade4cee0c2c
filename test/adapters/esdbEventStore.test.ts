import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEsdbEventStore } from '../../src/adapters/eventStore/esdb/esdbEventStore.ts';
import { ev, eventStoreContract, uniquePrefix } from '../contracts/eventStore.contract.ts';
import { startEsdbTestServer } from '../fakes/esdb/server.ts';
import { esdbServer, recordingLogger } from '../support/esdbServer.ts';
import { within } from '../support/wait.ts';

eventStoreContract('EventStoreDB (gRPC test server)', async () => {
  const { server, cleanup } = await esdbServer();
  return { open: async () => createEsdbEventStore(server.url), cleanup };
});

const realServer = process.env.EVENTSTORE_URL;
if (realServer) {
  eventStoreContract(`EventStoreDB at ${realServer}`, async () => ({
    open: async () => createEsdbEventStore(realServer),
    cleanup: async () => undefined,
  }));
}

describe('EventStoreDB adapter: lost connection', () => {
  it('resubscribes a catch-up subscription after the server restarts, without losing or repeating events', async () => {
    const { file, server, cleanup } = await esdbServer();
    const warnings: string[] = [];
    const store = createEsdbEventStore(server.url, recordingLogger(warnings));
    let restarted: Awaited<ReturnType<typeof startEsdbTestServer>> | undefined;
    try {
      const prefix = uniquePrefix();
      await store.append(`${prefix}s`, [ev('A', 1), ev('A', 2)], 'no_stream');
      const sub = store.subscribeToAll({ filter: { streamPrefixes: [prefix] } });
      const seen: unknown[] = [];
      while (seen.length < 2) seen.push(...(await within(3000, 'history', sub.nextBatch(10))).map((e) => e.data.n));
      assert.deepEqual([...seen], [1, 2]);

      await server.stop();
      restarted = await startEsdbTestServer(file, server.port);
      // Written behind the subscription's back while it was disconnected.
      await restarted.store.append(`${prefix}s`, [ev('A', 3)], 1);
      const afterRestart = await within(15_000, 'events after the restart', sub.nextBatch(10));
      seen.push(...afterRestart.map((e) => e.data.n));
      await store.append(`${prefix}s`, [ev('A', 4)], 2);
      while (seen.length < 4) seen.push(...(await within(5000, 'live event', sub.nextBatch(10))).map((e) => e.data.n));
      assert.deepEqual(seen, [1, 2, 3, 4]);
      assert.ok(warnings.some((w) => w.includes('resubscribing')), 'the drop was logged');
      await sub.close();
    } finally {
      await store.close();
      await restarted?.stop();
      await cleanup();
    }
  });

  it('maps an unreachable server to EventStoreUnavailableError', async () => {
    const { server, cleanup } = await esdbServer();
    await server.stop();
    const store = createEsdbEventStore(server.url);
    try {
      await assert.rejects(store.append(`${uniquePrefix()}x`, [ev('A')], 'any'), (e: unknown) => e instanceof Error && 'code' in e && e.code === 'event_store_unavailable');
    } finally {
      await store.close();
      await cleanup();
    }
  });
});
