import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { pooledUuidV7 } from '../../src/adapters/ids.ts';
import { cancelNotification } from '../../src/commands/cancelNotification.ts';
import { configureCategory } from '../../src/commands/categories.ts';
import { ALL_CATEGORIES } from '../../src/commands/rateSlots.ts';
import { notificationAggregate, sendNotification, type SendContext, type SendInput } from '../../src/commands/sendNotification.ts';
import { handleUserCommand } from '../../src/commands/users.ts';
import { bucketOf, rateWindowStream } from '../../src/domain/rateWindow.ts';
import { expire } from '../../src/processors/lateDelivery.ts';
import { load } from '../../src/commands/handle.ts';
import { notificationStream } from '../../src/domain/notification.ts';
import { createSandboxProvider } from '../../src/adapters/providers/sandbox/sandboxProvider.ts';

/** A cancelled or suppressed notification gives its rate slot back: the limit counts what reaches the user. */
describe('releasing a rate slot', () => {
  let dir: string;
  let store: SqliteEventStore;
  const clock = Date.parse('2026-11-28T10:00:00Z');
  const now = () => new Date(clock);
  const hourly = (overLimit: 'suppress' | 'defer') => ({ max: 1, windowSeconds: 3600, window: 'fixed' as const, overLimit, appliesToTransactional: false });
  let ctx: SendContext;
  const send = (userId: string, channels: ('sms' | 'email')[], extra: Partial<SendInput> = {}) =>
    sendNotification(ctx, { to: [{ userId }], channels, category: 'promo', content: { sms: { body: 'Sale' }, email: { subject: 'Sale', text: 'Sale' } }, ...extra });
  const slotEvents = async (userId: string, category = 'promo') => (await store.readStream(rateWindowStream(userId, category, bucketOf(clock, hourly('suppress'))))).map((e) => e.type);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-release-'));
    store = new SqliteEventStore(join(dir, 'events.db'));
    for (const userId of ['ann', 'bob', 'cat', 'dan', 'eve']) await handleUserCommand({ store, now }, { type: 'UpdateProfile', data: { userId, email: `${userId}@example.com`, phone: '+14155550123', timezone: 'UTC' } });
    await configureCategory({ store, now }, { category: 'promo', transactional: false, marketing: true, rateLimit: hourly('suppress') });
    ctx = { store, now, ids: pooledUuidV7(), scope: 'test' };
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a cancelled send frees its slot for the next one, and cancelling again releases nothing more', async () => {
    const first = (await send('ann', ['sms'], { sendAt: new Date(clock + 60_000).toISOString() })).notifications[0]!;
    assert.equal(first.status, 'scheduled');
    assert.equal((await send('ann', ['sms'])).notifications[0]!.status, 'suppressed', 'over the limit of 1 while the first holds the slot');
    await cancelNotification(store, first.id, { now });
    await cancelNotification(store, first.id, { now });
    assert.deepEqual(await slotEvents('ann'), ['RateSlotTaken', 'RateSlotReleased']);
    const [, released] = await store.readStream(rateWindowStream('ann', 'promo', bucketOf(clock, hourly('suppress'))));
    assert.deepEqual(released!.data.notificationIds, [first.id]);
    assert.equal((await send('ann', ['sms'])).notifications[0]!.status, 'requested', 'the freed slot is taken');
    assert.equal((await send('ann', ['sms'])).notifications[0]!.status, 'suppressed', 'and the limit holds again');
  });

  it('a slot shared by the channels of one request is freed only when all of them are cancelled', async () => {
    const [sms, email] = (await send('bob', ['sms', 'email'], { sendAt: new Date(clock + 60_000).toISOString() })).notifications;
    await cancelNotification(store, sms!.id, { now });
    assert.deepEqual(await slotEvents('bob'), ['RateSlotTaken'], 'the email still goes out: it keeps the slot');
    await cancelNotification(store, email!.id, { now });
    assert.deepEqual(await slotEvents('bob'), ['RateSlotTaken', 'RateSlotReleased']);
    const { state } = await load(store, notificationStream(email!.id), notificationAggregate);
    assert.ok(state.exists);
    assert.deepEqual(state.request.rateSlot?.notificationIds.toSorted(), [sms!.id, email!.id].toSorted());
  });

  it('siblings cancelled at the same moment free their shared slot, once', async () => {
    for (const userId of ['fay', 'gus', 'hal']) {
      await handleUserCommand({ store, now }, { type: 'UpdateProfile', data: { userId, email: `${userId}@example.com`, phone: '+14155550123', timezone: 'UTC' } });
      const [sms, email] = (await send(userId, ['sms', 'email'], { sendAt: new Date(clock + 60_000).toISOString() })).notifications;
      await Promise.all([cancelNotification(store, sms!.id, { now }), cancelNotification(store, email!.id, { now })]);
      assert.deepEqual(await slotEvents(userId), ['RateSlotTaken', 'RateSlotReleased'], userId);
    }
  });

  it('a repeat of a cancelled idempotent request takes no slot again', async () => {
    const key = { idempotencyKey: 'promo-42', sendAt: new Date(clock + 60_000).toISOString() };
    const first = (await send('cat', ['sms'], key)).notifications[0]!;
    await cancelNotification(store, first.id, { now });
    assert.equal((await send('cat', ['sms'], key)).notifications[0]!.id, first.id);
    assert.deepEqual(await slotEvents('cat'), ['RateSlotTaken', 'RateSlotReleased']);
  });

  it('frees the user\'s slot over all categories too', async () => {
    const daily = { max: 1, windowSeconds: 86_400, window: 'fixed' as const, overLimit: 'suppress' as const, appliesToTransactional: false };
    const capped: SendContext = { ...ctx, userRateLimit: daily };
    const first = (await sendNotification(capped, { to: [{ userId: 'dan' }], channels: ['sms'], category: 'news', content: { sms: { body: 'a' } }, sendAt: new Date(clock + 60_000).toISOString() })).notifications[0]!;
    await cancelNotification(store, first.id, { now });
    assert.deepEqual((await store.readStream(rateWindowStream('dan', ALL_CATEGORIES, bucketOf(clock, daily)))).map((e) => e.type), ['RateSlotTaken', 'RateSlotReleased']);
    assert.equal((await sendNotification(capped, { to: [{ userId: 'dan' }], channels: ['sms'], category: 'tips', content: { sms: { body: 'b' } } })).notifications[0]!.status, 'requested');
  });

  it('a send suppressed at delivery because it expired frees its slot', async () => {
    const held = (await send('eve', ['sms'], { sendAt: new Date(clock + 60_000).toISOString(), expiresAt: new Date(clock + 120_000).toISOString() })).notifications[0]!;
    const loaded = await load(store, notificationStream(held.id), notificationAggregate);
    const later = () => new Date(clock + 180_000);
    const events = await expire({ events: store, now: later, provider: createSandboxProvider('sms', { outboxFile: join(dir, 'outbox.jsonl') }) }, { notificationId: held.id, attempt: 1, loaded });
    assert.deepEqual(events.map((e) => e.type), ['NotificationSuppressed']);
    assert.deepEqual(await slotEvents('eve'), ['RateSlotTaken', 'RateSlotReleased']);
  });
});
