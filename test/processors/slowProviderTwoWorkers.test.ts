import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { createTwilioProvider, loadTwilioConfig } from '../../src/adapters/providers/twilio/index.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { DeliveryProcessor } from '../../src/processors/deliveryProcessor.ts';
import { deliveryMessageTimeoutMs, MESSAGE_TIMEOUT_MS } from '../../src/processors/deliveryInFlight.ts';
import { startFakeTwilio } from '../fakes/twilioServer.ts';
import { capturingLogger } from '../support/logLines.ts';
import { eventually } from '../support/wait.ts';

const ACCOUNT_SID = `AC${'a'.repeat(32)}`;
const AUTH_TOKEN = 'f'.repeat(32);
const at = '2026-11-29T05:00:00.000Z';
const ids = [1, 2, 3, 4].map((n) => `00000000-0000-4000-8000-00000000001${n}`);
const phones = ['+14155550101', '+14155550102', '+14155550103', '+14155550104'];

describe('a slow provider and two workers on one route', () => {
  it('each SMS is sent once: the group waits for every call a worker may queue before handing an event to the other', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-slow2-'));
    const store = new SqliteEventStore(join(dir, 'e.db'));
    const fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, password: AUTH_TOKEN });
    // Twilio answers each SMS in 500 ms, within the 1 s request timeout: slow, not failing.
    fake.setDelay(500);
    const env = { HERALD_TWILIO_ACCOUNT_SID: ACCOUNT_SID, HERALD_TWILIO_AUTH_TOKEN: AUTH_TOKEN, HERALD_TWILIO_FROM: '+15005550006', HERALD_TWILIO_BASE_URL: fake.baseUrl, HERALD_TWILIO_RATE_PER_SECOND: '1000', HERALD_TWILIO_TIMEOUT_MS: '1000' };
    const { logger } = capturingLogger();
    // Two instances of the SMS worker, one call at a time each; asked for a group that waits only
    // 300 ms for an ack, less than the calls an event can wait behind.
    const workers = [0, 1].map(() => new DeliveryProcessor({ events: store, provider: createTwilioProvider(loadTwilioConfig(env)!, logger), logger, now: () => new Date(), batchWindowMs: 1, concurrency: 1, messageTimeoutMs: 300 }));
    try {
      for (let i = 0; i < ids.length; i++) {
        await store.append(`user-u${i}`, [encodeEvent({ type: 'UserProfileUpdated', data: { userId: `u${i}`, email: null, phone: phones[i]!, locale: null, timezone: null, at } })], 'no_stream');
      }
      await workers[0]!.start();
      for (let i = 0; i < ids.length; i++) {
        await store.append(`notification-${ids[i]}`, [encodeEvent({
          type: 'NotificationRequested',
          data: { notificationId: ids[i]!, userId: `u${i}`, channel: 'sms', category: 'news', content: { sms: { body: 'hi' } }, routes: ['sms'], priority: 'normal', at },
        })], 'no_stream');
      }
      // The first worker has taken all four (a call each, one at a time) before the second starts.
      await eventually(5_000, 'the first SMS reaches Twilio', async () => (fake.requests.length > 0 ? true : undefined));
      await workers[1]!.start();
      await eventually(15_000, 'every SMS recorded as sent', async () => {
        const streams = await Promise.all(ids.map((id) => store.readStream(`notification-${id}`)));
        return streams.every((events) => events.some((e) => e.type === 'NotificationSent')) ? true : undefined;
      });
      await eventually(5_000, 'every event acked', async () => ((await store.persistentSubscriptionInfo(workers[0]!.group)).inFlight === 0 ? true : undefined));
      await new Promise((r) => setTimeout(r, 700));
      assert.deepEqual(fake.requests.map((r) => r.to).sort(), [...phones].sort(), 'each phone got its SMS once');
      assert.ok(workers[0]!.messageTimeoutMs > 4 * 1_000, `the group waits past the four calls (${workers[0]!.messageTimeoutMs} ms)`);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await fake.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('how long a delivery group waits for an ack', () => {
  it('past every call an event can wait behind, twice over; 60 s where no call bound is known', () => {
    assert.equal(deliveryMessageTimeoutMs({ maxBatchSize: 1, concurrency: 10 }), MESSAGE_TIMEOUT_MS, 'the sandbox');
    assert.equal(deliveryMessageTimeoutMs({ maxBatchSize: 1, concurrency: 10, callBoundMs: 10_000 }), 142_000, 'Twilio: 64 in flight, 10 at a time, 7 rounds of 10 s');
    assert.equal(deliveryMessageTimeoutMs({ maxBatchSize: 100, concurrency: 4, callBoundMs: 5_000 }), MESSAGE_TIMEOUT_MS, 'APNs: one round of 5 s');
    assert.equal(deliveryMessageTimeoutMs({ maxBatchSize: 500, concurrency: 4, callBoundMs: 30_000 }), 62_000, 'FCM: one round of 30 s');
    assert.equal(deliveryMessageTimeoutMs({ maxBatchSize: 1000, concurrency: 8, callBoundMs: 50_000 }), 102_000, 'SendGrid: one call within its 50 s budget');
    assert.equal(deliveryMessageTimeoutMs({ maxBatchSize: 1, concurrency: 10, callBoundMs: 100 }, 300), 3_400, 'a test asking for 300 ms gets what its calls need');
  });
});
