import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import type { DeliveryMessage, DeliveryProvider } from '../../src/ports/deliveryProvider.ts';
import { DeliveryProcessor } from '../../src/processors/deliveryProcessor.ts';
import { capturingLogger } from '../support/logLines.ts';
import { eventually } from '../support/wait.ts';

/**
 * A worker does not start a job whose calls could not end before the group hands its event out
 * again (batchSend.ts, heldTooLong): the group's wait allows for full batches, but a user's many
 * devices and events trickling in one per batch window can hold a job longer. Found by review: each
 * test below sent some notifications twice with two workers before the job was handed back.
 */
const at = '2026-11-29T05:00:00.000Z';
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('a job that waited too long for a slow provider', () => {
  it('FCM-like route (batch 40, 1 call at a time, each call within its 2 s bound), users with 3 devices: each push sent once by two workers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-devices-'));
    const store = new SqliteEventStore(join(dir, 'e.db'));
    const sent: string[] = [];
    let calls = 0;
    const provider = (): DeliveryProvider => ({
      id: 'fake', route: 'fcm', maxBatchSize: 40, limits: { concurrency: 1 }, callBoundMs: 2000,
      async send(messages: readonly DeliveryMessage[]) {
        calls++;
        await new Promise((r) => setTimeout(r, 1900));
        return messages.map((m) => { sent.push(`${m.notificationId}/${m.to}`); return { status: 'sent' as const, providerMessageId: `p-${m.to}` }; });
      },
      async close() {},
    });
    const { logger } = capturingLogger();
    const workers = [0, 1].map(() => new DeliveryProcessor({ events: store, provider: provider(), logger, now: () => new Date(), batchWindowMs: 20, messageTimeoutMs: 300 }));
    const total = 80;
    try {
      await store.append('user-u1', ['a', 'b', 'c'].map((d) => encodeEvent({ type: 'DeviceRegistered', data: { userId: 'u1', token: d.repeat(64), platform: 'android', at } })), 'no_stream');
      await workers[0]!.start();
      await store.appendInOrder(Array.from({ length: total }, (_, i) => ({ stream: `notification-${id(i + 1)}`, expected: 'no_stream' as const,
        events: [encodeEvent({ type: 'NotificationRequested', data: { notificationId: id(i + 1), userId: 'u1', channel: 'push', category: 'news', content: { push: { title: 't', body: 'b' } }, routes: ['fcm'], priority: 'normal', at } } as never)] })));
      await new Promise((r) => setTimeout(r, 500));
      await workers[1]!.start();
      await eventually(60_000, 'all sent and acked', async () => {
        const streams = await Promise.all(Array.from({ length: total }, (_, i) => store.readStream(`notification-${id(i + 1)}`)));
        return streams.every((s) => s.some((e) => e.type === 'NotificationSent')) && (await store.persistentSubscriptionInfo(workers[0]!.group)).inFlight === 0 ? true : undefined;
      });
      await new Promise((r) => setTimeout(r, 2500));
      const twice = sent.filter((x, i) => sent.indexOf(x) !== i);
      assert.ok(calls >= 6, `three devices each: at least six calls of 40 (${calls})`);
      assert.equal(twice.length, 0, `${twice.length} pushes sent twice`);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('email-like route (batch 50, 1 call at a time, each call within its 200 ms bound): events trickling in are each sent once by two workers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-partial-'));
    const store = new SqliteEventStore(join(dir, 'e.db'));
    const sent: string[] = [];
    const calls: number[] = [];
    const provider = (): DeliveryProvider => ({
      id: 'fake', route: 'email', maxBatchSize: 50, limits: { concurrency: 1 }, callBoundMs: 200,
      async send(messages: readonly DeliveryMessage[]) {
        calls.push(messages.length);
        await new Promise((r) => setTimeout(r, 150)); // within its bound
        return messages.map((m) => { sent.push(m.notificationId); return { status: 'sent' as const, providerMessageId: `p-${m.notificationId}` }; });
      },
      async close() {},
    });
    const { logger } = capturingLogger();
    const workers = [0, 1].map(() => new DeliveryProcessor({ events: store, provider: provider(), logger, now: () => new Date(), batchWindowMs: 5, messageTimeoutMs: 300 }));
    const total = 60;
    try {
      await store.append('user-u1', [encodeEvent({ type: 'UserProfileUpdated', data: { userId: 'u1', email: 'u1@example.com', phone: null, locale: null, timezone: null, at } })], 'no_stream');
      await workers[0]!.start();
      for (let i = 1; i <= total; i++) {
        await store.append(`notification-${id(i)}`, [encodeEvent({ type: 'NotificationRequested', data: { notificationId: id(i), userId: 'u1', channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', at } })], 'no_stream');
        await new Promise((r) => setTimeout(r, 20)); // a trickle: one event per batch window
      }
      await workers[1]!.start(); // a second instance, as in slowProviderTwoWorkers.test.ts
      await eventually(30_000, 'all acked', async () => {
        const streams = await Promise.all(Array.from({ length: total }, (_, i) => store.readStream(`notification-${id(i + 1)}`)));
        const done = streams.every((s) => s.some((e) => e.type === 'NotificationSent'));
        return done && (await store.persistentSubscriptionInfo(workers[0]!.group)).inFlight === 0 ? true : undefined;
      });
      await new Promise((r) => setTimeout(r, 1000));
      const twice = sent.filter((x, i) => sent.indexOf(x) !== i);
      assert.equal(twice.length, 0, `${twice.length} of ${total} emails sent twice`);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('sends a job whose calls alone outlast the wait, rather than handing it back for ever', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-toolong-'));
    const store = new SqliteEventStore(join(dir, 'e.db'));
    let calls = 0;
    // Chunks of two at 2 a second: a user's 14 devices take 7 calls, 7 × 500 ms + 1 s past the 4 s wait.
    const provider: DeliveryProvider = {
      id: 'fake', route: 'fcm', maxBatchSize: 40, limits: { concurrency: 1 }, callBoundMs: 500,
      async send(messages: readonly DeliveryMessage[]) {
        calls++;
        return messages.map((m) => ({ status: 'sent' as const, providerMessageId: `p-${m.to}` }));
      },
      async close() {},
    };
    const { logger, lines } = capturingLogger();
    const worker = new DeliveryProcessor({ events: store, provider, logger, now: () => new Date(), batchWindowMs: 20, messageTimeoutMs: 300, ratePerSecond: 2 });
    const nid = id(1);
    try {
      await store.append('user-u1', Array.from({ length: 14 }, (_, i) => encodeEvent({ type: 'DeviceRegistered', data: { userId: 'u1', token: String(i).padStart(64, 'x'), platform: 'android', at } })), 'no_stream');
      await worker.start();
      assert.equal(worker.messageTimeoutMs, 4_000);
      await store.append(`notification-${nid}`, [encodeEvent({ type: 'NotificationRequested', data: { notificationId: nid, userId: 'u1', channel: 'push', category: 'news', content: { push: { title: 't', body: 'b' } }, routes: ['fcm'], priority: 'normal', at } })], 'no_stream');
      await eventually(20_000, 'the push recorded as sent', async () => ((await store.readStream(`notification-${nid}`)).some((e) => e.type === 'NotificationSent') ? true : undefined));
      assert.equal(calls, 7, 'its 14 messages in 7 calls of two');
      assert.equal(lines.filter((l) => String(l.msg).includes('handed back unsent')).length, 0, 'never handed back');
    } finally {
      await worker.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
