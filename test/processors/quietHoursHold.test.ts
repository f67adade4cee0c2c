import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { createSandboxProvider } from '../../src/adapters/providers/sandbox/sandboxProvider.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { handle, load } from '../../src/commands/handle.ts';
import { notificationAggregate } from '../../src/commands/sendNotification.ts';
import { defaultPreferences, type Preferences } from '../../src/domain/preferences.ts';
import type { HeraldEvent } from '../../src/domain/events.ts';
import { planDelivery, type Plan } from '../../src/processors/deliveryPlan.ts';

// The test's clock: 23:00 UTC, quiet from 22:00 to 07:00; it jumps to the hold's end.
const T = Date.parse('2026-11-23T23:00:00.000Z');
const at = new Date(T - 7200_000).toISOString();
const quiet = { start: '22:00', end: '07:00' };
const morning = '2026-11-24T07:00:00.000Z';

async function withStore(run: (s: { events: SqliteEventStore; clock: { now: number } }) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'herald-quiet-hold-'));
  const events = new SqliteEventStore(join(dir, 'e.db'));
  try {
    await run({ events, clock: { now: T } });
  } finally {
    await events.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const user = (userId: string, preferences: Partial<Preferences>, when = at): HeraldEvent[] => [
  { type: 'UserProfileUpdated', data: { userId, email: `${userId}@example.com`, phone: null, locale: null, timezone: 'UTC', at: when } },
  { type: 'PreferencesUpdated', data: { userId, preferences: { ...defaultPreferences(), ...preferences }, at: when } },
];
const shown = (plan: Plan) => (plan.kind === 'send' ? 'send' : plan.kind === 'settled' ? plan.events.map((e) => `${e.type}${'reason' in e.data ? `:${e.data.reason}` : ''}`).join(',') : 'skip');

describe('an attempt held for quiet hours, when they end', () => {
  it('is checked against the user\'s choices again: a redrive held overnight is suppressed if they opted out meanwhile, held again if the hours moved', async () => {
    await withStore(async ({ events, clock }) => {
      const now = () => new Date(clock.now);
      const provider = createSandboxProvider('email', { outboxFile: '/dev/null' });
      const ids = ['00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-0000000000c2'];
      const users = ['opts-out', 'moves-hours'];
      for (const [i, id] of ids.entries()) {
        await events.append(`user-${users[i]}`, user(users[i]!, { quietHours: quiet }).map((e) => encodeEvent(e)), 'no_stream');
        // A dead letter (no sendAt) that an operator redrives at 23:00.
        await events.append(`notification-${id}`, [
          encodeEvent({ type: 'NotificationRequested', data: { notificationId: id, userId: users[i]!, channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', at } }),
          encodeEvent({ type: 'NotificationFailed', data: { notificationId: id, route: 'email', provider: 'sandbox', reason: 'boom', permanent: false, attempts: 5, rejected: [], at } }),
        ], 'no_stream');
        await handle(events, `notification-${id}`, notificationAggregate, { type: 'Redrive', data: { notificationId: id, route: 'email' } }, { now });
      }
      const plan = async (id: string) => planDelivery({ events, provider, now }, { event: (await events.readStream(`notification-${id}`)).at(-1)!, retryCount: 0 });
      for (const id of ids) assert.equal(shown(await plan(id)), 'DeliveryHeld:quiet_hours', 'held at 23:00');
      // Overnight: one user opts out of email, the other sleeps in until 09:00.
      await events.append('user-opts-out', [encodeEvent({ type: 'PreferencesUpdated', data: { userId: 'opts-out', preferences: { ...defaultPreferences(), quietHours: quiet, channels: { email: false } }, at: new Date(T + 3600_000).toISOString() } })], 'any');
      await events.append('user-moves-hours', [encodeEvent({ type: 'PreferencesUpdated', data: { userId: 'moves-hours', preferences: { ...defaultPreferences(), quietHours: { start: '22:00', end: '09:00' } }, at: new Date(T + 3600_000).toISOString() } })], 'any');
      clock.now = Date.parse(morning);
      for (const id of ids) assert.deepEqual((await handle(events, `notification-${id}`, notificationAggregate, { type: 'MarkDue', data: { notificationId: id, route: 'email', attempt: 1 } }, { now })).events.map((e) => e.type), ['DeliveryDue']);
      assert.equal(shown(await plan(ids[0]!)), 'NotificationSuppressed:channel_opted_out');
      assert.equal(shown(await plan(ids[1]!)), 'DeliveryHeld:quiet_hours');
      const { state } = await load(events, `notification-${ids[1]}`, notificationAggregate);
      assert.equal(state.exists && state.routes.email?.heldUntil, '2026-11-24T09:00:00.000Z');
    });
  });

  it('that would wait past its expiry, after another route delivered it, ends failed as expired, not pending for good', async () => {
    await withStore(async ({ events, clock }) => {
      const now = () => new Date(clock.now);
      const provider = createSandboxProvider('apns', { outboxFile: '/dev/null' });
      const id = '00000000-0000-4000-8000-0000000000c3';
      const device: HeraldEvent = { type: 'DeviceRegistered', data: { userId: 'two-phones', token: 'a'.repeat(64), platform: 'ios', at } };
      await events.append('user-two-phones', [...user('two-phones', { quietHours: quiet }), device].map((e) => encodeEvent(e)), 'no_stream');
      // FCM delivered it at 21:00; APNs failed once and its retry comes due at 23:00, an hour before the expiry.
      await events.append(`notification-${id}`, ([
        { type: 'NotificationRequested', data: { notificationId: id, userId: 'two-phones', channel: 'push', category: 'news', content: { push: { title: 't', body: 'b' } }, routes: ['apns', 'fcm'], priority: 'normal', expiresAt: new Date(T + 3600_000).toISOString(), at } },
        { type: 'NotificationSent', data: { notificationId: id, route: 'fcm', provider: 'sandbox', attempt: 1, deliveries: [], rejected: [], at } },
        { type: 'DeliveryAttemptFailed', data: { notificationId: id, route: 'apns', provider: 'sandbox', attempt: 1, reason: 'timeout', retryAt: new Date(T).toISOString(), rejected: [], at } },
        { type: 'DeliveryDue', data: { notificationId: id, route: 'apns', attempt: 2, at: new Date(T).toISOString() } },
      ] satisfies HeraldEvent[]).map((e) => encodeEvent(e)), 'no_stream');
      const plan = await planDelivery({ events, provider, now }, { event: (await events.readStream(`notification-${id}`)).at(-1)!, retryCount: 0 });
      assert.equal(shown(plan), 'NotificationFailed:expired');
      const { state } = await load(events, `notification-${id}`, notificationAggregate);
      assert.deepEqual(state.exists && [state.routes.apns?.state, state.status], ['failed', 'sent']);
    });
  });
});
