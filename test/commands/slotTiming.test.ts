import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { pooledUuidV7 } from '../../src/adapters/ids.ts';
import { configureCategory } from '../../src/commands/categories.ts';
import { load } from '../../src/commands/handle.ts';
import { notificationAggregate } from '../../src/commands/sendNotification.ts';
import { sendNotification, type SendContext } from '../../src/commands/sendNotification.ts';
import { handleUserCommand } from '../../src/commands/users.ts';
import { notificationStream } from '../../src/domain/notification.ts';
import { defaultPreferences } from '../../src/domain/preferences.ts';
import type { RateLimit } from '../../src/domain/category.ts';

/** When a rate window lets a send go: never inside the user's quiet hours, never past the limit with scheduled sends. */
describe('the time a rate slot is taken', () => {
  let dir: string;
  let store: SqliteEventStore;
  let clock = Date.parse('2026-11-23T21:30:00.000Z');
  const now = () => new Date(clock);
  const ctx = (): SendContext => ({ store, now, ids: pooledUuidV7(), scope: 'test' });
  const sms = (userId: string, category: string, sendAt?: string) => ({ to: [{ userId }], channels: ['sms' as const], category, content: { sms: { body: 'hi' } }, ...(sendAt ? { sendAt } : {}) });
  const requestOf = async (id: string) => {
    const { state } = await load(store, notificationStream(id), notificationAggregate);
    assert.ok(state.exists);
    return state.request;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-slot-'));
    store = new SqliteEventStore(join(dir, 'events.db'));
    for (const userId of ['ann', 'bob', 'cat']) await handleUserCommand({ store, now }, { type: 'UpdateProfile', data: { userId, phone: '+14155550123', timezone: 'UTC' } });
    await handleUserCommand({ store, now }, { type: 'SetPreferences', data: { userId: 'ann', preferences: { ...defaultPreferences(), quietHours: { start: '22:00', end: '07:00' } } } });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const limit = (window: RateLimit['window'], overLimit: RateLimit['overLimit']): RateLimit => ({ max: 1, windowSeconds: 3600, window, overLimit, appliesToTransactional: false });

  it('a deferral that would land in quiet hours goes when they end, and takes its slot then', async () => {
    clock = Date.parse('2026-11-23T21:30:00.000Z');
    await configureCategory({ store, now }, { category: 'reminder', transactional: false, marketing: false, rateLimit: limit('fixed', 'defer') });
    const first = await sendNotification(ctx(), sms('ann', 'reminder'));
    assert.deepEqual(first.notifications.map((n) => n.status), ['requested']);
    clock = Date.parse('2026-11-23T21:45:00.000Z');
    const second = await sendNotification(ctx(), sms('ann', 'reminder'));
    assert.deepEqual(second.notifications.map((n) => n.status), ['scheduled']);
    // The window is free from 22:00, but Ann is quiet from 22:00 to 07:00.
    assert.equal((await requestOf(second.notifications[0]!.id)).sendAt, '2026-11-24T07:00:00.000Z');
    // Its slot is taken at 07:00: a send at 07:10 finds that hour full and waits for the next.
    clock = Date.parse('2026-11-24T07:10:00.000Z');
    const third = await sendNotification(ctx(), sms('ann', 'reminder'));
    assert.equal((await requestOf(third.notifications[0]!.id)).sendAt, '2026-11-24T08:00:00.000Z');
  });

  it('a sliding window counts a slot already taken for later: one per hour means one, with a send scheduled half an hour ahead', async () => {
    clock = Date.parse('2026-11-23T09:00:00.000Z');
    await configureCategory({ store, now }, { category: 'digest', transactional: false, marketing: false, rateLimit: limit('sliding', 'suppress') });
    const scheduled = await sendNotification(ctx(), sms('bob', 'digest', '2026-11-23T10:30:00.000Z'));
    assert.deepEqual(scheduled.notifications.map((n) => n.status), ['scheduled']);
    clock = Date.parse('2026-11-23T10:00:00.000Z');
    const now10 = await sendNotification(ctx(), sms('bob', 'digest'));
    assert.deepEqual(now10.notifications.map((n) => n.status), ['suppressed'], 'the hour 09:30–10:30 would hold two');
    clock = Date.parse('2026-11-23T11:31:00.000Z');
    const later = await sendNotification(ctx(), sms('bob', 'digest'));
    assert.deepEqual(later.notifications.map((n) => n.status), ['requested'], 'an hour after the scheduled one, there is room');
  });

  it('deferred past a slot taken for later, a sliding window waits until that slot has left the hour', async () => {
    clock = Date.parse('2026-11-23T09:00:00.000Z');
    await configureCategory({ store, now }, { category: 'nudge', transactional: false, marketing: false, rateLimit: limit('sliding', 'defer') });
    await sendNotification(ctx(), sms('cat', 'nudge', '2026-11-23T09:45:00.000Z'));
    clock = Date.parse('2026-11-23T09:20:00.000Z');
    const deferred = await sendNotification(ctx(), sms('cat', 'nudge'));
    assert.deepEqual(deferred.notifications.map((n) => n.status), ['scheduled']);
    assert.equal((await requestOf(deferred.notifications[0]!.id)).sendAt, '2026-11-23T10:45:00.001Z');
  });
});
