import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { createSandboxProvider } from '../../src/adapters/providers/sandbox/sandboxProvider.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { handle } from '../../src/commands/handle.ts';
import { notificationAggregate } from '../../src/commands/sendNotification.ts';
import type { HeraldEvent } from '../../src/domain/events.ts';
import { defaultPreferences } from '../../src/domain/preferences.ts';
import { planDelivery, type Plan } from '../../src/processors/deliveryPlan.ts';

const at = '2026-11-23T10:00:00.000Z';
const now = () => new Date('2026-11-23T10:00:05.000Z');
const phone = 'a'.repeat(64);
const tablet = 'b'.repeat(64);
const watch = 'c'.repeat(64);
const digest = (token: string) => createHash('sha256').update(token).digest('hex');
const sentTo = (plan: Plan) => (plan.kind === 'send' ? plan.job.messages.map((m) => m.to) : plan.kind);

async function withStore(run: (events: SqliteEventStore) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'herald-unsent-devices-'));
  const events = new SqliteEventStore(join(dir, 'e.db'));
  try {
    await run(events);
  } finally {
    await events.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('a retry of the devices a sent push did not reach', () => {
  it('sends to those still the user\'s alone, once: handed out again after its outcome is recorded, it sends nothing', async () => {
    await withStore(async (events) => {
      const provider = createSandboxProvider('apns', { outboxFile: '/dev/null' });
      const id = '00000000-0000-4000-8000-0000000000d1';
      const stream = `notification-${id}`;
      await events.append('user-u-3', ([
        ...[phone, tablet, watch].map((token): HeraldEvent => ({ type: 'DeviceRegistered', data: { userId: 'u-3', token, platform: 'ios', at } })),
        // The watch was invalidated (another notification's send) after this one left it unsent.
        { type: 'DeviceTokenInvalidated', data: { userId: 'u-3', token: watch, reason: 'unregistered_token', at } },
      ] satisfies HeraldEvent[]).map((e) => encodeEvent(e)), 'no_stream');
      const unsent = [tablet, watch].map((token) => ({ to: `${token.slice(0, 4)}…(64)`, reason: 'provider_unavailable', tokenDigest: digest(token) }));
      await events.append(stream, ([
        { type: 'NotificationRequested', data: { notificationId: id, userId: 'u-3', channel: 'push', category: 'news', content: { push: { title: 't', body: 'b' } }, routes: ['apns'], priority: 'normal', at } },
        { type: 'NotificationSent', data: { notificationId: id, route: 'apns', provider: 'sandbox', attempt: 1, deliveries: [{ to: 'aaaa…(64)', providerMessageId: 'm1' }], rejected: [], unsent, retryAt: at, at } },
        { type: 'DeliveryDue', data: { notificationId: id, route: 'apns', attempt: 2, at } },
      ] satisfies HeraldEvent[]).map((e) => encodeEvent(e)), 'no_stream');
      const [requested, , due] = await events.readStream(stream);
      const plan = (event: typeof due) => planDelivery({ events, provider, now }, { event: event!, retryCount: 0 });

      assert.deepEqual(sentTo(await plan(due)), [tablet], 'not the phone that has it, nor the watch no longer active');
      assert.equal(sentTo(await plan(requested)), 'skip', 'the request handed out again sends nothing to the phone');
      const outcome = { kind: 'sent' as const, provider: 'sandbox', deliveries: [{ to: 'bbbb…(64)', providerMessageId: 'm2' }], rejected: [] };
      const recorded = await handle(events, stream, notificationAggregate, { type: 'RecordDelivery', data: { notificationId: id, route: 'apns', attempt: 2, maxAttempts: 3, retryAt: at, outcome } }, { now });
      assert.deepEqual(recorded.events.map((e) => e.type), ['UnsentDevicesRetried']);
      assert.equal(sentTo(await plan(due)), 'skip', 'the same retry handed out twice sends once');
    });
  });

  it('ends without sending when the user opted out of the category since: the devices are listed with that reason', async () => {
    await withStore(async (events) => {
      const provider = createSandboxProvider('apns', { outboxFile: '/dev/null' });
      const id = '00000000-0000-4000-8000-0000000000d3';
      const stream = `notification-${id}`;
      await events.append('user-u-5', ([
        ...[phone, tablet].map((token): HeraldEvent => ({ type: 'DeviceRegistered', data: { userId: 'u-5', token, platform: 'ios', at } })),
        { type: 'PreferencesUpdated', data: { userId: 'u-5', preferences: { ...defaultPreferences(), categories: { news: false } }, at } },
      ] satisfies HeraldEvent[]).map((e) => encodeEvent(e)), 'no_stream');
      await events.append(stream, ([
        { type: 'NotificationRequested', data: { notificationId: id, userId: 'u-5', channel: 'push', category: 'news', content: { push: { title: 't', body: 'b' } }, routes: ['apns'], priority: 'normal', at } },
        { type: 'NotificationSent', data: { notificationId: id, route: 'apns', provider: 'sandbox', attempt: 1, deliveries: [{ to: 'aaaa…(64)', providerMessageId: 'm1' }], rejected: [], unsent: [{ to: 'bbbb…(64)', reason: 'timeout', tokenDigest: digest(tablet) }], retryAt: at, at } },
        { type: 'DeliveryDue', data: { notificationId: id, route: 'apns', attempt: 2, at } },
      ] satisfies HeraldEvent[]).map((e) => encodeEvent(e)), 'no_stream');
      const due = (await events.readStream(stream)).at(-1)!;
      const plan = await planDelivery({ events, provider, now }, { event: due, retryCount: 0 });
      assert.equal(plan.kind, 'settled');
      const last = (await events.readStream(stream)).at(-1)!;
      assert.deepEqual([last.type, last.data.unsent, last.data.retryAt], ['UnsentDevicesRetried', [{ to: 'bbbb…(64)', reason: 'category_opted_out', tokenDigest: digest(tablet) }], undefined]);
    });
  });

  it('an unsent device recorded before device retries (no retryAt, no digest) is not tried again', async () => {
    await withStore(async (events) => {
      const provider = createSandboxProvider('apns', { outboxFile: '/dev/null' });
      const id = '00000000-0000-4000-8000-0000000000d2';
      const stream = `notification-${id}`;
      await events.append('user-u-4', [phone, tablet].map((token) => encodeEvent({ type: 'DeviceRegistered', data: { userId: 'u-4', token, platform: 'ios', at } })), 'no_stream');
      await events.append(stream, ([
        { type: 'NotificationRequested', data: { notificationId: id, userId: 'u-4', channel: 'push', category: 'news', content: { push: { title: 't', body: 'b' } }, routes: ['apns'], priority: 'normal', at } },
        { type: 'NotificationSent', data: { notificationId: id, route: 'apns', provider: 'sandbox', attempt: 1, deliveries: [{ to: 'aaaa…(64)', providerMessageId: 'm1' }], rejected: [], unsent: [{ to: 'bbbb…(64)', reason: 'timeout' }], at } },
        { type: 'DeliveryDue', data: { notificationId: id, route: 'apns', attempt: 2, at } },
      ] satisfies HeraldEvent[]).map((e) => encodeEvent(e)), 'no_stream');
      const due = (await events.readStream(stream)).at(-1)!;
      assert.equal(sentTo(await planDelivery({ events, provider, now }, { event: due, retryCount: 0 })), 'skip');
    });
  });
});
