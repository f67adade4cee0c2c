import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createEsdbEventStore } from '../../src/adapters/eventStore/esdb/esdbEventStore.ts';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { createSandboxProvider } from '../../src/adapters/providers/sandbox/sandboxProvider.ts';
import type { DeliveryProvider } from '../../src/ports/deliveryProvider.ts';
import type { EventStore } from '../../src/ports/eventStore.ts';
import { DeliveryProcessor } from '../../src/processors/deliveryProcessor.ts';
import { RateLimiter } from '../../src/processors/rateLimiter.ts';
import { esdbServer } from '../support/esdbServer.ts';
import { capturingLogger } from '../support/logLines.ts';
import { eventually, within } from '../support/wait.ts';
import { appendEmailRequest, appendEmailRequests } from '../support/emailRequest.ts';

const at = '2026-11-29T05:00:00.000Z';
const id = '00000000-0000-4000-8000-000000000001';

/** The sandbox provider, whose calls wait until `open()`; `called` resolves at the first. */
function gated(provider: DeliveryProvider) {
  let open!: () => void;
  let reached!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const called = new Promise<void>((resolve) => (reached = resolve));
  const send: DeliveryProvider['send'] = async (messages) => {
    reached();
    await gate;
    return provider.send(messages);
  };
  return { provider: { ...provider, send }, called, open };
}

/** The sandbox provider one message a call (as Twilio's), counting its calls. */
function oneByOne(provider: DeliveryProvider) {
  const counted = { calls: 0, provider: { ...provider, maxBatchSize: 1 } };
  counted.provider.send = (messages) => {
    counted.calls += 1;
    return provider.send(messages);
  };
  return counted;
}

/** A store to run the workers on, and how to let it go. */
interface Setup {
  dir: string;
  store: EventStore;
  done: () => Promise<void>;
}

const stores: Record<string, () => Promise<Setup>> = {
  'the embedded store': async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-stopping-'));
    const store = new SqliteEventStore(join(dir, 'e.db'));
    return { dir, store, done: async () => { await store.close(); await rm(dir, { recursive: true, force: true }); } };
  },
  // ESDB hands a closed consumer's events to the others at once.
  'EventStoreDB (gRPC test server)': async () => {
    const { dir, server, cleanup } = await esdbServer();
    const store = createEsdbEventStore(server.url);
    return { dir, store, done: async () => { await store.close(); await cleanup(); } };
  },
};

for (const [name, setUp] of Object.entries(stores)) {
  describe(`a delivery worker stopped while a send is in flight (a rolling restart), on ${name}`, () => {
    it('keeps the event until the send is recorded and acked, so another instance does not send it again', async () => {
      const { dir, store, done } = await setUp();
      const outbox = join(dir, 'outbox.jsonl');
      const sent = async () => (await readFile(outbox, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
      const slow = gated(createSandboxProvider('email', { outboxFile: outbox }));
      const { logger } = capturingLogger();
      const worker = (provider: DeliveryProvider) => new DeliveryProcessor({ events: store, provider, logger, now: () => new Date(), batchWindowMs: 1 });
      const stopping = worker(slow.provider);
      const other = worker(createSandboxProvider('email', { outboxFile: outbox }));
      try {
        await appendEmailRequest(store, id, at);
        await stopping.start();
        await slow.called;
        await other.start();
        const stopped = stopping.stop();
        // Meanwhile the other instance must not be handed the event the stopping one is sending.
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(await sent(), [], 'nothing sent by the other instance while the first still sends');
        slow.open();
        await stopped;
        await eventually(5000, 'the outcome recorded', async () => ((await store.readStream(`notification-${id}`)).some((e) => e.type === 'NotificationSent') ? true : undefined));
        await eventually(3000, 'acked', async () => ((await store.persistentSubscriptionInfo(stopping.group)).inFlight === 0 ? true : undefined));
        await new Promise((r) => setTimeout(r, 300));
        assert.equal((await sent()).length, 1, 'sent once');
      } finally {
        slow.open();
        await other.stop();
        await done();
      }
    });
  });

  describe(`a delivery worker stopped while its route's rate limit holds its batch back, on ${name}`, () => {
    it('sends no more, hands the waiting deliveries back at once, and a restarted worker sends each of them once', async () => {
      const { dir, store, done } = await setUp();
      const outbox = join(dir, 'outbox.jsonl');
      const sent = async () => (await readFile(outbox, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { notificationId: string }).notificationId);
      const ids = [1, 2, 3, 4, 5, 6].map((n) => `00000000-0000-4000-8000-00000000001${n}`);
      const counted = oneByOne(createSandboxProvider('email', { outboxFile: outbox }));
      const { logger, lines } = capturingLogger({ info: true });
      // One a second: the first goes out at once, the other five wait their turn, about five seconds.
      const limited = new DeliveryProcessor({ events: store, provider: counted.provider, logger, now: () => new Date(), batchWindowMs: 50, ratePerSecond: 1 });
      const restarted = new DeliveryProcessor({ events: store, provider: counted.provider, logger, now: () => new Date(), batchWindowMs: 1 });
      let stopped: Promise<void> | undefined;
      try {
        await appendEmailRequests(store, ids, at);
        await limited.start();
        await eventually(3000, 'the first send', () => (counted.calls > 0 ? true : undefined));
        const callsBefore = counted.calls;
        stopped = limited.stop();
        await within(2500, 'the stop (sending the rest at the rate would take about five seconds)', stopped);
        assert.equal(counted.calls, callsBefore, 'no provider call once stopping');
        const first = await sent();
        assert.equal(first.length, callsBefore);
        const handedBack = lines.filter((l) => l.level === 'info' && l.obj.handedBack !== undefined);
        assert.deepEqual(handedBack.map((l) => l.obj), [{ handedBack: ids.length - callsBefore }]);
        assert.doesNotMatch(handedBack[0]!.msg ?? '', /@/, 'no address in the line');
        await restarted.start();
        await eventually(10_000, 'every notification sent', async () => {
          const streams = await Promise.all(ids.map((id) => store.readStream(`notification-${id}`)));
          return streams.every((events) => events.some((e) => e.type === 'NotificationSent')) ? true : undefined;
        });
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual((await sent()).toSorted(), ids, 'each sent once in all');
        assert.equal(counted.calls, ids.length);
      } finally {
        await stopped?.catch(() => undefined);
        await restarted.stop();
        await done();
      }
    });
  });
}

describe('a delivery handed back by a worker stopped before sending it, many times in a row (a crash-looping or often redeployed instance), on the embedded store', () => {
  it('is not parked as if it had failed: the hand-backs do not count as retries, and the next worker sends it once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-handbacks-'));
    const store = new SqliteEventStore(join(dir, 'e.db'));
    const outbox = join(dir, 'outbox.jsonl');
    const counted = oneByOne(createSandboxProvider('email', { outboxFile: outbox }));
    const { logger } = capturingLogger();
    // The route's only token is spent and the next is a hundred seconds away: each worker holds the delivery until it stops.
    const limiter = new RateLimiter(0.01);
    await limiter.take(1);
    const stops = 12;
    let last: DeliveryProcessor | undefined;
    try {
      await appendEmailRequest(store, id, at);
      for (let i = 0; i < stops; i++) {
        const worker = new DeliveryProcessor({ events: store, provider: counted.provider, logger, now: () => new Date(), batchWindowMs: 1, ratePerSecond: 0.01, limiter });
        await worker.start();
        await eventually(3000, `the delivery held by worker ${i + 1}`, async () => ((await store.persistentSubscriptionInfo(worker.group)).inFlight === 1 ? true : undefined));
        await worker.stop();
      }
      assert.equal(counted.calls, 0, 'never sent');
      last = new DeliveryProcessor({ events: store, provider: counted.provider, logger, now: () => new Date(), batchWindowMs: 1 });
      assert.deepEqual(await store.listParked(last.group), [], `not parked after ${stops} hand-backs (maxRetryCount is 10)`);
      await last.start();
      await eventually(5000, 'the delivery sent', async () => ((await store.readStream(`notification-${id}`)).some((e) => e.type === 'NotificationSent') ? true : undefined));
      assert.equal(counted.calls, 1);
    } finally {
      await last?.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
