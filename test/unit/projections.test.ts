import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeraldEvent, Recorded } from '../../src/domain/events.ts';
import { evolveNotificationLog, notificationLog } from '../../src/projections/notificationLog.ts';
import { evolveContacts } from '../../src/projections/contacts.ts';
import { evolveSchedule } from '../../src/projections/schedule.ts';


const at = '2026-11-23T10:00:00.000Z';
let position = 0;
const rec = (type: string, data: Record<string, unknown>) => ({ type, data: { at, ...data }, streamName: 's', revision: 0, position: ++position, metadata: {} }) as unknown as Recorded;

describe('notification log projection', () => {
  const requested = rec('NotificationRequested', { notificationId: 'n1', userId: 'u1', channel: 'sms', category: 'c', content: { sms: { body: 'secret body' } }, routes: ['sms'], priority: 'normal' });

  it('given a request, then a requested document with a timeline that leaves out the content', () => {
    const doc = evolveNotificationLog(null, requested);
    assert.equal(doc?.status, 'requested');
    assert.deepEqual(doc?.routes, { sms: 'pending' });
    assert.equal(JSON.stringify(doc).includes('secret body'), false);
  });

  it('a timeline entry is the event type, its time and its other facts in their order, without content, notification or user id', () => {
    const sent = rec('NotificationSent', { notificationId: 'n1', route: 'sms', provider: 'sandbox', attempt: 2, deliveries: [{ to: '+1', providerMessageId: 'm1' }], rejected: [] });
    const doc = [requested, sent].reduce(evolveNotificationLog, null);
    assert.equal(JSON.stringify(doc?.events), JSON.stringify([
      { type: 'NotificationRequested', at, channel: 'sms', category: 'c', routes: ['sms'], priority: 'normal' },
      { type: 'NotificationSent', at, route: 'sms', provider: 'sandbox', attempt: 2, deliveries: [{ to: '+1', providerMessageId: 'm1' }], rejected: [] },
    ]));
  });

  it('given a request and a send, then sent with both events in order', () => {
    const sent = rec('NotificationSent', { notificationId: 'n1', route: 'sms', provider: 'sandbox', deliveries: [], rejected: [] });
    const doc = [requested, sent].reduce(evolveNotificationLog, null);
    assert.equal(doc?.status, 'sent');
    assert.deepEqual(doc?.events.map((e) => e.type), ['NotificationRequested', 'NotificationSent']);
  });

  it('given a suppressed notification, a late outcome does not change its status', () => {
    const suppressed = rec('NotificationSuppressed', { notificationId: 'n1', reason: 'no_address' });
    const failed = rec('NotificationFailed', { notificationId: 'n1', route: 'sms', provider: 'p', reason: 'x', permanent: true, rejected: [] });
    assert.equal([requested, suppressed, failed].reduce(evolveNotificationLog, null)?.status, 'suppressed');
  });

  it('a suppressed or cancelled notification shows its untried routes as such, not pending; a route already done keeps its outcome', () => {
    const push = rec('NotificationRequested', { notificationId: 'n2', userId: 'u1', channel: 'push', category: 'c', content: {}, routes: ['apns', 'fcm'], priority: 'normal' });
    const suppressed = rec('NotificationSuppressed', { notificationId: 'n2', reason: 'channel_opted_out' });
    assert.deepEqual([push, suppressed].reduce(evolveNotificationLog, null)?.routes, { apns: 'suppressed', fcm: 'suppressed' });
    const failedApns = rec('NotificationFailed', { notificationId: 'n2', route: 'apns', provider: 'apns', reason: 'unregistered_token', permanent: true, rejected: [] });
    const cancelled = rec('NotificationCancelled', { notificationId: 'n2' });
    const doc = [push, failedApns, cancelled].reduce(evolveNotificationLog, null);
    assert.deepEqual([doc?.status, doc?.routes], ['cancelled', { apns: 'failed', fcm: 'cancelled' }]);
  });

  it('an outcome for an unknown notification creates nothing', () => {
    assert.equal(evolveNotificationLog(null, rec('NotificationOpened', { notificationId: 'zz' })), null);
  });

  it('routes every event type it subscribes to to the notification, so a redriven failure shows as requested again', () => {
    const failed = rec('NotificationFailed', { notificationId: 'n1', route: 'sms', provider: 'p', reason: 'http_503', permanent: false, rejected: [] });
    const redriven = rec('DeliveryRedriven', { notificationId: 'n1', route: 'sms' });
    for (const type of notificationLog.eventTypes) assert.equal(notificationLog.keyOf(rec(type, { notificationId: 'n1', route: 'sms' })), 'n1', type);
    const doc = [requested, failed, redriven].reduce(evolveNotificationLog, null);
    assert.equal(doc?.status, 'requested');
    assert.deepEqual(doc?.routes, { sms: 'pending' });
  });
});

describe('contacts projection', () => {
  it('given profile and devices, then one document; an invalidated device stays listed as inactive', () => {
    const events = [
      rec('UserProfileUpdated', { userId: 'u1', email: 'a@example.com' }),
      rec('DeviceRegistered', { userId: 'u1', token: 't1', platform: 'ios' }),
      rec('DeviceRegistered', { userId: 'u1', token: 't2', platform: 'android' }),
      rec('DeviceTokenInvalidated', { userId: 'u1', token: 't1', reason: 'unregistered_token' }),
      rec('DeviceRemoved', { userId: 'u1', token: 't2' }),
    ];
    const doc = events.reduce(evolveContacts, null);
    assert.equal(doc?.email, 'a@example.com');
    assert.deepEqual(doc?.devices.map((d) => [d.token, d.active]), [['t1', false]]);
  });

  it('keeps the email in lower case beside it, for finding the users of an address a provider reports', () => {
    const set = rec('UserProfileUpdated', { userId: 'u1', email: 'Ada@Example.COM' });
    assert.deepEqual([set].reduce(evolveContacts, null)?.emailKey, 'ada@example.com');
    const devices = [set, rec('DeviceRegistered', { userId: 'u1', token: 't1', platform: 'ios' })].reduce(evolveContacts, null);
    assert.equal(devices?.emailKey, 'ada@example.com', 'a device changes nothing of it');
    assert.equal([set, rec('UserProfileUpdated', { userId: 'u1', email: null })].reduce(evolveContacts, null)?.emailKey, null);
    assert.equal([set, rec('UserProfileUpdated', { userId: 'u1', locale: 'en-GB' })].reduce(evolveContacts, null)?.emailKey, 'ada@example.com', 'left out: unchanged');
  });
});

describe('the schedule read model', () => {
  const rec = (event: HeraldEvent, position: number): Recorded => ({ ...event, streamName: 'notification-n1', revision: position, position, metadata: {} });
  const at = '2026-11-23T23:00:00.000Z';

  it('lists a held attempt as due again when the quiet hours end, and drops it once made due', () => {
    const requested = rec({ type: 'NotificationRequested', data: { notificationId: 'n1', userId: 'u1', channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', at } }, 1);
    const held = rec({ type: 'DeliveryHeld', data: { notificationId: 'n1', route: 'email', attempt: 1, until: '2026-11-24T07:00:00.000Z', reason: 'quiet_hours', at } }, 2);
    const doc = [requested, held].reduce(evolveSchedule, null);
    assert.deepEqual(doc, { notificationId: 'n1', due: [{ route: 'email', attempt: 1, dueAt: '2026-11-24T07:00:00.000Z' }], nextDueAt: '2026-11-24T07:00:00.000Z' });
    const due = rec({ type: 'DeliveryDue', data: { notificationId: 'n1', route: 'email', attempt: 1, at: '2026-11-24T07:00:00.000Z' } }, 3);
    assert.equal(evolveSchedule(doc, due), null);
  });

  it('shows the hold on the notification log: scheduled until the attempt is due again', () => {
    const requested = rec({ type: 'NotificationRequested', data: { notificationId: 'n1', userId: 'u1', channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', at } }, 1);
    const held = rec({ type: 'DeliveryHeld', data: { notificationId: 'n1', route: 'email', attempt: 1, until: '2026-11-24T07:00:00.000Z', reason: 'quiet_hours', at } }, 2);
    const doc = [requested, held].reduce(evolveNotificationLog, null);
    assert.equal(doc?.status, 'scheduled');
    assert.deepEqual(doc?.events.at(-1), { type: 'DeliveryHeld', at, route: 'email', attempt: 1, until: '2026-11-24T07:00:00.000Z', reason: 'quiet_hours' });
  });
});

describe('a retry of the devices a sent push did not reach, in the read models', () => {
  const rec = (event: HeraldEvent, position: number): Recorded => ({ ...event, streamName: 'notification-n1', revision: position, position, metadata: {} });
  const at = '2026-11-23T10:00:00.000Z';
  const retryAt = '2026-11-23T10:00:02.000Z';
  const tablet = { to: 'bbbb…(64)', reason: 'provider_unavailable', tokenDigest: 'b'.repeat(64) };
  const life = [
    rec({ type: 'NotificationRequested', data: { notificationId: 'n1', userId: 'u1', channel: 'push', category: 'news', content: { push: { title: 't', body: 'b' } }, routes: ['apns'], priority: 'normal', at } }, 1),
    rec({ type: 'NotificationSent', data: { notificationId: 'n1', route: 'apns', provider: 'apns', attempt: 1, deliveries: [{ to: 'aaaa…(64)', providerMessageId: 'm1' }], rejected: [], unsent: [tablet], retryAt, at } }, 2),
    rec({ type: 'DeliveryDue', data: { notificationId: 'n1', route: 'apns', attempt: 2, at: retryAt } }, 3),
    rec({ type: 'UnsentDevicesRetried', data: { notificationId: 'n1', route: 'apns', provider: 'apns', attempt: 2, deliveries: [{ to: tablet.to, providerMessageId: 'm2' }], rejected: [], unsent: [], at: retryAt } }, 4),
  ];

  it('the schedule lists the retry as the route\'s next attempt at retryAt, and nothing once it has run', () => {
    const sent = life.slice(0, 2).reduce(evolveSchedule, null);
    assert.deepEqual(sent, { notificationId: 'n1', due: [{ route: 'apns', attempt: 2, dueAt: retryAt }], nextDueAt: retryAt });
    assert.equal(life.slice(0, 3).reduce(evolveSchedule, null), null);
    assert.equal(life.reduce(evolveSchedule, null), null);
  });

  it('the notification log stays sent, counts the devices still to try, and shows the retry on the timeline', () => {
    const sent = life.slice(0, 2).reduce(evolveNotificationLog, null);
    assert.deepEqual([sent?.status, sent?.routes, sent?.unsentDevices], ['sent', { apns: 'sent' }, { apns: 1 }]);
    const done = life.reduce(evolveNotificationLog, null);
    assert.deepEqual([done?.status, done?.routes, done?.unsentDevices], ['sent', { apns: 'sent' }, undefined]);
    assert.deepEqual(done?.events.map((e) => e.type), ['NotificationRequested', 'NotificationSent', 'DeliveryDue', 'UnsentDevicesRetried']);
    assert.ok(notificationLog.eventTypes.includes('UnsentDevicesRetried'));
  });
});
