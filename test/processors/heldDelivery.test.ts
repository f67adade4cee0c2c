import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { createSandboxProvider } from '../../src/adapters/providers/sandbox/sandboxProvider.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { DeliveryProcessor } from '../../src/processors/deliveryProcessor.ts';
import { deliveryMaxInFlight } from '../../src/processors/deliveryInFlight.ts';
import { capturingLogger } from '../support/logLines.ts';
import { eventually } from '../support/wait.ts';

const at = '2026-11-29T05:00:00.000Z';
const ids = [1, 2, 3, 4].map((n) => `00000000-0000-4000-8000-00000000000${n}`);

describe('an event handed out again while its worker still holds it', () => {
  it('is not sent again: a provider slower than the message timeout sends each SMS once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-held-'));
    const store = new SqliteEventStore(join(dir, 'e.db'));
    await store.append('user-u1', [encodeEvent({ type: 'UserProfileUpdated', data: { userId: 'u1', email: null, phone: '+14155550123', locale: null, timezone: null, at } })], 'no_stream');
    for (const id of ids) {
      await store.append(`notification-${id}`, [encodeEvent({
        type: 'NotificationRequested',
        data: { notificationId: id, userId: 'u1', channel: 'sms', category: 'news', content: { sms: { body: 'hi' } }, routes: ['sms'], priority: 'normal', at },
      })], 'no_stream');
    }
    const outbox = join(dir, 'outbox.jsonl');
    const sent = async () => (await readFile(outbox, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { notificationId: string }).notificationId);
    // Every call takes longer than the group waits for an ack: each event is handed out again
    // while the provider still has it (as behind a long code's one SMS a second, or a store outage).
    const provider = createSandboxProvider('sms', { outboxFile: outbox, latencyMs: 400 });
    const { logger } = capturingLogger();
    const worker = new DeliveryProcessor({ events: store, provider, logger, now: () => new Date(), batchWindowMs: 1, concurrency: 1, messageTimeoutMs: 150 });
    try {
      await worker.start();
      const recorded = async () => {
        const streams = await Promise.all(ids.map((id) => store.readStream(`notification-${id}`)));
        return streams.every((events) => events.some((e) => e.type === 'NotificationSent')) ? true : undefined;
      };
      await eventually(10_000, 'every SMS sent and recorded', recorded);
      await eventually(5_000, 'every event acked', async () => ((await store.persistentSubscriptionInfo(worker.group)).inFlight === 0 ? true : undefined));
      // The group did hand events out again meanwhile; the worker sent each once.
      await new Promise((r) => setTimeout(r, 600));
      assert.deepEqual((await sent()).sort(), [...ids].sort());
      assert.deepEqual(await store.listParked(worker.group), []);
    } finally {
      await worker.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('how many events a delivery group hands out at a time', () => {
  it('two provider batches, at least 64, but no more than half the message timeout lets the rate send', () => {
    assert.equal(deliveryMaxInFlight(500, undefined, 60_000), 1000, 'FCM: two sendEach batches');
    assert.equal(deliveryMaxInFlight(1, undefined, 60_000), 64);
    assert.equal(deliveryMaxInFlight(1, 1, 60_000), 30, 'a Twilio long code (1 SMS/s): the last taken waits 30 s, not past the timeout');
    assert.equal(deliveryMaxInFlight(1, 10, 60_000), 64, 'a messaging service (10/s)');
    assert.equal(deliveryMaxInFlight(500, 0.01, 60_000), 1, 'at least one');
  });
});
