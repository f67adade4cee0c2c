import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEsdbEventStore } from '../../src/adapters/eventStore/esdb/esdbEventStore.ts';
import { EventNotHeldError } from '../../src/ports/eventStore.ts';
import { ev, eventStoreContract, takeN, uniquePrefix } from '../contracts/eventStore.contract.ts';
import { notReady } from '../fakes/esdb/faults.ts';
import { startEsdbTestServer } from '../fakes/esdb/server.ts';
import { esdbServer, recordingLogger } from '../support/esdbServer.ts';
import { eventually, nothingWithin, within } from '../support/wait.ts';

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

  it('after a dropped consumer connection, hands out only what the new connection gives; acks of the old one\'s events reject', async () => {
    const { server, cleanup } = await esdbServer();
    const warnings: string[] = [];
    const store = createEsdbEventStore(server.url, recordingLogger(warnings));
    try {
      const prefix = uniquePrefix();
      await store.ensurePersistentSubscription(`${prefix}g`, { filter: { streamPrefixes: [prefix] } });
      for (let n = 0; n < 3; n++) await store.append(`${prefix}${n}`, [ev('A', n)], 'no_stream');
      const sub = store.connectPersistentSubscription(`${prefix}g`);
      const [taken] = await takeN(sub, 1);
      await new Promise((r) => setTimeout(r, 100)); // the other two arrive in the consumer's buffer
      server.dropConsumers(notReady());
      await eventually(5000, 'the drop noticed', () => (warnings.some((w) => w.includes('reconnecting')) ? true : undefined));
      await assert.rejects(sub.ack(taken!), (e: unknown) => e instanceof EventNotHeldError);
      // The server hands all three out again on the new connection; nothing from the old buffer comes too.
      const again = await takeN(sub, 3, 10_000);
      assert.deepEqual(again.map((e) => e.event.data.n).sort(), [0, 1, 2]);
      assert.ok(again.every((e) => e.retryCount >= 1), 'each one handed out again by the server');
      for (const e of again) await sub.ack(e);
      assert.equal(await nothingWithin(500, sub.nextBatch(1)), undefined);
      await sub.close();
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it('closes after reads of the head (a read left before its end kept dispose() waiting for ever)', async () => {
    const { server, cleanup } = await esdbServer();
    const store = createEsdbEventStore(server.url);
    try {
      await store.append(`${uniquePrefix()}s`, [ev('A', 1)], 'no_stream');
      for (let i = 0; i < 3; i++) assert.ok((await store.headPosition()) > 0);
      await within(5000, 'close', store.close());
    } finally {
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
