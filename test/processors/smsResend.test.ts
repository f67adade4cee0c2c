import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { createSandboxProvider } from '../../src/adapters/providers/sandbox/sandboxProvider.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import type { HeraldEvent } from '../../src/domain/events.ts';
import { defaultPreferences } from '../../src/domain/preferences.ts';
import { planDelivery, type Plan } from '../../src/processors/deliveryPlan.ts';

const at = '2026-11-29T10:00:00.000Z';
const now = () => new Date('2026-11-29T10:00:05.000Z');
const OLD = '+14155550111';
const NEW = '+14155550122';
const sentTo = (plan: Plan) => (plan.kind === 'send' ? plan.job.messages.map((m) => m.to) : plan.kind);
const types = (plan: Plan) => (plan.kind === 'settled' ? plan.events.map((e) => [e.type, (e.data as { reason?: string }).reason, (e.data as { retryAt?: string }).retryAt]) : plan.kind);

/** A user, and an SMS to them Twilio reported undelivered (30003), its resend due now; returns the plan for it. */
async function planResend(userEvents: (userId: string) => HeraldEvent[], request: { expiresAt?: string } = {}): Promise<{ plan: Plan; replanRequest: () => Promise<Plan> }> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-sms-resend-'));
  const events = new SqliteEventStore(join(dir, 'e.db'));
  try {
    const provider = createSandboxProvider('sms', { outboxFile: '/dev/null' });
    const id = '00000000-0000-4000-8000-00000000051d';
    const stream = `notification-${id}`;
    await events.append('user-u-1', userEvents('u-1').map((e) => encodeEvent(e)), 'no_stream');
    await events.append(stream, ([
      { type: 'NotificationRequested', data: { notificationId: id, userId: 'u-1', channel: 'sms', category: 'news', content: { sms: { body: 'b' } }, routes: ['sms'], priority: 'normal', ...request, at } },
      { type: 'NotificationSent', data: { notificationId: id, route: 'sms', provider: 'twilio', attempt: 1, deliveries: [{ to: '***0111', providerMessageId: 'SM1' }], rejected: [], at } },
      { type: 'MessageUndelivered', data: { notificationId: id, route: 'sms', attempt: 1, reason: 'twilio_30003', providerMessageId: 'SM1', retryAt: at, at } },
      { type: 'DeliveryDue', data: { notificationId: id, route: 'sms', attempt: 2, at } },
    ] satisfies HeraldEvent[]).map((e) => encodeEvent(e)), 'no_stream');
    const [requested, , , due] = await events.readStream(stream);
    const plan = await planDelivery({ events, provider, now }, { event: due!, retryCount: 0 });
    const again = await planDelivery({ events, provider, now }, { event: requested!, retryCount: 0 });
    return { plan, replanRequest: async () => again };
  } finally {
    await events.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const profile = (userId: string, phone: string, timezone: string | null = null): HeraldEvent => ({ type: 'UserProfileUpdated', data: { userId, email: null, phone, locale: null, timezone, at } });

describe('the resend of an SMS reported undelivered is planned from the user as they are then', () => {
  it('goes to the number the user has now; the request handed out again sends nothing', async () => {
    const { plan, replanRequest } = await planResend((u) => [profile(u, OLD), profile(u, NEW)]);
    assert.deepEqual(sentTo(plan), [NEW]);
    assert.equal(sentTo(await replanRequest()), 'skip');
  });

  it('sends none to a number opted out since, nor to a user who opted out of SMS: given up with the reason', async () => {
    const optedOut = await planResend((u) => [profile(u, OLD), { type: 'ContactOptedOut', data: { userId: u, channel: 'sms', address: OLD, reason: 'carrier_opt_out', source: 'twilio', at } }]);
    assert.deepEqual(sentTo(optedOut.plan), [], 'no address: the worker records no_address, given up');
    const channel = await planResend((u) => [profile(u, OLD), { type: 'PreferencesUpdated', data: { userId: u, preferences: { ...defaultPreferences(), channels: { sms: false } }, at } }]);
    assert.deepEqual(types(channel.plan), [['MessageUndelivered', 'channel_opted_out', undefined]]);
  });

  it('waits out the user\'s quiet hours, and past its expiry is given up as expired', async () => {
    const quiet = await planResend((u) => [profile(u, OLD, 'UTC'), { type: 'PreferencesUpdated', data: { userId: u, preferences: { ...defaultPreferences(), quietHours: { start: '09:00', end: '11:00' } }, at } }]);
    assert.deepEqual(types(quiet.plan), [['DeliveryHeld', 'quiet_hours', undefined]]);
    const expired = await planResend((u) => [profile(u, OLD)], { expiresAt: '2026-11-29T10:00:01.000Z' });
    assert.deepEqual(types(expired.plan), [['MessageUndelivered', 'expired', undefined]]);
  });
});
