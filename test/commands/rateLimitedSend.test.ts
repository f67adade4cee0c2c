import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { pooledUuidV7 } from '../../src/adapters/ids.ts';
import { cancelNotification } from '../../src/commands/cancelNotification.ts';
import { configureCategory } from '../../src/commands/categories.ts';
import { sendNotification, type SendContext } from '../../src/commands/sendNotification.ts';
import { IdempotencyKeyReusedError } from '../../src/commands/sendErrors.ts';
import { ALL_CATEGORIES } from '../../src/commands/rateSlots.ts';
import { handleUserCommand } from '../../src/commands/users.ts';
import { bucketOf, rateWindowStream } from '../../src/domain/rateWindow.ts';
import type { EventStore, StreamAppend } from '../../src/ports/eventStore.ts';

/** A send to a user in a rate-limited category, against the embedded store, with a window another process may move. */
describe('a rate-limited send', () => {
  let dir: string;
  let store: SqliteEventStore;
  const now = () => new Date();
  const limit = (max: number) => ({ max, windowSeconds: 3600, window: 'fixed' as const, overLimit: 'suppress' as const, appliesToTransactional: false });
  const windowOf = (userId: string) => rateWindowStream(userId, 'digest', bucketOf(Date.now(), limit(1)));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-rate-'));
    store = new SqliteEventStore(join(dir, 'events.db'));
    for (const userId of ['ann', 'bob']) await handleUserCommand({ store, now }, { type: 'UpdateProfile', data: { userId, email: `${userId}@example.com`, timezone: 'UTC' } });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The store as sendNotification sees it, recording each appendInOrder call; `first` runs ahead of the first call. */
  function watched(first?: () => Promise<void>) {
    const calls: string[][] = [];
    let pending = first;
    const wrapper = Object.assign(Object.create(store) as EventStore, {
      appendInOrder: async (appends: readonly StreamAppend[]) => {
        calls.push(appends.map((a) => a.stream.split('-')[0]!));
        const run = pending;
        pending = undefined;
        await run?.();
        return store.appendInOrder(appends);
      },
    });
    const ctx: SendContext = { store: wrapper, now, ids: pooledUuidV7(), scope: 'test' };
    return { ctx, calls };
  }

  const email = (userId: string) => ({ to: [{ userId }], channels: ['email' as const], category: 'digest', content: { email: { subject: 'Digest', text: 'News' } } });

  it('writes the slot and the notification it admits in one appendInOrder, slot first', async () => {
    await configureCategory({ store, now }, { category: 'digest', transactional: false, marketing: true, rateLimit: limit(2) });
    const { ctx, calls } = watched();
    const sent = await sendNotification(ctx, email('ann'));
    assert.deepEqual(sent.notifications.map((n) => n.status), ['requested']);
    assert.deepEqual(calls, [['ratewindow', 'notification']]);
    assert.equal((await store.readStream(windowOf('ann'))).length, 1);
  });

  it('a repeated idempotent send takes no second slot and writes nothing twice; another body under the key is refused', async () => {
    await configureCategory({ store, now }, { category: 'digest', transactional: false, marketing: true, rateLimit: limit(5) });
    const { ctx, calls } = watched();
    const keyed = { ...email('ann'), channels: ['email' as const, 'sms' as const], idempotencyKey: 'digest-2026-11-27', content: { email: { subject: 'Digest', text: 'News' }, sms: { body: 'News' } } };
    const slotsBefore = (await store.readStream(windowOf('ann'))).length;
    const first = await sendNotification(ctx, keyed);
    const lengths = async () => Promise.all(first.notifications.map(async ({ id }) => (await store.readStream(`notification-${id}`)).length));
    const written = await lengths();
    const again = await sendNotification(ctx, keyed);
    assert.deepEqual(again.notifications, first.notifications, 'the same ids and statuses');
    assert.equal((await store.readStream(windowOf('ann'))).length, slotsBefore + 1, 'one slot for both channels, once');
    // The repeat found both notifications written by the first: it appended nothing and took no slot.
    assert.deepEqual(calls, [['ratewindow', 'notification', 'notification']]);
    assert.deepEqual(await lengths(), written, 'no event appended to a notification twice');
    await assert.rejects(sendNotification(ctx, { ...keyed, content: { email: { subject: 'Other', text: 'News' }, sms: { body: 'News' } } }), IdempotencyKeyReusedError);
  });

  it('a key reused with other recipients or channels is refused before anything is written for anyone', async () => {
    await configureCategory({ store, now }, { category: 'digest', transactional: false, marketing: true, rateLimit: limit(5) });
    const { ctx, calls } = watched();
    const key = 'reused-2026-11-29';
    await sendNotification(ctx, { ...email('ann'), idempotencyKey: key });
    const windows = await Promise.all(['ann', 'bob'].map(async (u) => (await store.readStream(windowOf(u))).length));
    // Bob and Ann's sms are new under the key; Ann's email is the first request's, with another body.
    const reused = { to: [{ userId: 'ann' }, { userId: 'bob' }], channels: ['email' as const, 'sms' as const], category: 'digest', idempotencyKey: key, content: { email: { subject: 'Digest', text: 'News' }, sms: { body: 'News' } } };
    await assert.rejects(sendNotification(ctx, reused), IdempotencyKeyReusedError);
    assert.deepEqual(calls, [['ratewindow', 'notification']], 'the refused request wrote nothing');
    assert.deepEqual(await Promise.all(['ann', 'bob'].map(async (u) => (await store.readStream(windowOf(u))).length)), windows, 'and took no slot');
  });

  it('a retry of a request the window suppressed takes no slot when one has come free, and answers suppressed as before', async () => {
    await configureCategory({ store, now }, { category: 'digest', transactional: false, marketing: true, rateLimit: limit(1) });
    await handleUserCommand({ store, now }, { type: 'UpdateProfile', data: { userId: 'cal', email: 'cal@example.com', timezone: 'UTC' } });
    const calWindow = rateWindowStream('cal', 'digest', bucketOf(Date.now(), limit(1)));
    const { ctx } = watched();
    const fills = await sendNotification(ctx, { ...email('cal'), idempotencyKey: 'fills-the-window' });
    const suppressed = { ...email('cal'), idempotencyKey: 'over-the-limit' };
    const first = await sendNotification(ctx, suppressed);
    assert.deepEqual(first.notifications.map((n) => n.status), ['suppressed']);
    // The window frees up: the first send is cancelled, which gives its slot back.
    await cancelNotification(store, fills.notifications[0]!.id, { now });
    assert.equal(fills.notifications[0]!.status, 'requested');
    const windowBefore = (await store.readStream(calWindow)).length;
    const retry = await sendNotification(ctx, suppressed);
    assert.deepEqual(retry.notifications, first.notifications, 'the same notification, still suppressed');
    assert.equal((await store.readStream(calWindow)).length, windowBefore, 'no slot taken for a notification that is not sent');
  });

  it('decides again when another process took the last slot between its read and its write', async () => {
    await configureCategory({ store, now }, { category: 'digest', transactional: false, marketing: true, rateLimit: limit(1) });
    // Another Herald process takes bob's only slot after this one has read the empty window.
    const { ctx, calls } = watched(async () => {
      await store.append(windowOf('bob'), [{ type: 'RateSlotTaken', data: { userId: 'bob', category: 'digest', slotId: 'other', windowStart: new Date().toISOString(), at: new Date().toISOString() } }], 'no_stream');
    });
    const [notification] = (await sendNotification(ctx, email('bob'))).notifications;
    assert.equal(notification?.status, 'suppressed', 'the window is full on the second decision');
    // The first call wrote nothing (its slot's window had moved); the second writes the notification alone, suppressed.
    assert.deepEqual(calls, [['ratewindow', 'notification'], ['notification']]);
    assert.deepEqual((await store.readStream(windowOf('bob'))).map((e) => e.data.slotId), ['other']);
    const events = await store.readStream(`notification-${notification.id}`);
    assert.deepEqual(events.map((e) => [e.type, e.data.reason]), [['NotificationRequested', undefined], ['NotificationSuppressed', 'rate_limited']]);
  });
});

/** HERALD_USER_RATE_LIMIT_*: one window over every category of a user, besides each category's own. */
describe('a user\'s limit over all categories', () => {
  let dir: string;
  let store: SqliteEventStore;
  const now = () => new Date();
  const cap = (max: number, overLimit: 'suppress' | 'defer' = 'suppress') => ({ max, windowSeconds: 86_400, window: 'fixed' as const, overLimit, appliesToTransactional: false });
  const context = (userRateLimit: ReturnType<typeof cap>): SendContext => ({ store, now, ids: pooledUuidV7(), scope: 'test', userRateLimit });
  const sms = (userId: string, category: string) => ({ to: [{ userId }], channels: ['sms' as const], category, content: { sms: { body: category } } });
  const status = async (ctx: SendContext, userId: string, category: string) => (await sendNotification(ctx, sms(userId, category))).notifications[0]!;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-user-rate-'));
    store = new SqliteEventStore(join(dir, 'events.db'));
    for (const userId of ['cat', 'dan', 'eve', 'fay']) await handleUserCommand({ store, now }, { type: 'UpdateProfile', data: { userId, phone: '+14155550123', timezone: 'UTC' } });
    await configureCategory({ store, now }, { category: 'security', transactional: true, marketing: false, rateLimit: null });
    await configureCategory({ store, now }, { category: 'promo', transactional: false, marketing: true, rateLimit: { ...cap(5), window: 'sliding' } });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts every category together; a transactional one is exempt; the category\'s own window is counted too', async () => {
    const ctx = context(cap(2));
    assert.equal((await status(ctx, 'cat', 'news')).status, 'requested');
    assert.equal((await status(ctx, 'cat', 'promo')).status, 'requested');
    const third = await status(ctx, 'cat', 'orders');
    assert.equal(third.status, 'suppressed', 'a third category: over the user\'s 2');
    assert.deepEqual((await store.readStream(`notification-${third.id}`)).map((e) => e.data.reason), [undefined, 'rate_limited']);
    assert.equal((await status(ctx, 'cat', 'security')).status, 'requested', 'transactional: exempt');
    const day = bucketOf(Date.now(), cap(1));
    assert.deepEqual((await store.readStream(rateWindowStream('cat', ALL_CATEGORIES, day))).map((e) => e.data.category), ['*', '*']);
    assert.equal((await store.readStream(rateWindowStream('cat', 'promo', bucketOf(Date.now(), cap(5))))).length, 1, 'promo\'s own window took its slot too');
  });

  it('lets exactly N through when sends in many categories race', async () => {
    const ctx = context(cap(3));
    const sent = await Promise.all(Array.from({ length: 24 }, (_, i) => status(ctx, 'dan', ['news', 'promo', 'orders', 'tips'][i % 4]!)));
    assert.equal(sent.filter((n) => n.status === 'requested').length, 3);
    assert.equal(sent.filter((n) => n.status === 'suppressed').length, 21);
  });

  it('deferred by the user\'s window, the category\'s slot is taken when the send goes, so the category\'s limit holds for the next send', async () => {
    const t0 = Date.parse('2026-11-28T10:00:00Z');
    let clock = t0;
    const sliding = (max: number, windowSeconds: number) => ({ max, windowSeconds, window: 'sliding' as const, overLimit: 'defer' as const, appliesToTransactional: false });
    await configureCategory({ store, now }, { category: 'hourly', transactional: false, marketing: false, rateLimit: sliding(1, 3600) });
    const ctx: SendContext = { store, now: () => new Date(clock), ids: pooledUuidV7(), scope: 'test', userRateLimit: sliding(1, 1800) };
    const sendAt = async (category: string) => {
      const n = await status(ctx, 'fay', category);
      const [requested] = await store.readStream(`notification-${n.id}`);
      return Date.parse(String(requested!.data.sendAt ?? requested!.data.at));
    };
    assert.equal(await sendAt('news'), t0, 'the user\'s slot until 10:30');
    clock = t0 + 60_000;
    const first = await sendAt('hourly');
    assert.equal(first, t0 + 1_800_001, 'the category had room at 10:01; the user\'s window at 10:30');
    clock = t0 + 61 * 60_000;
    const second = await sendAt('hourly');
    assert.ok(second - first >= 3_600_000, `two hourly sends ${(second - first) / 60_000} minutes apart`);
    const slots = await store.readAll({ filter: { eventTypes: ['RateSlotTaken'] } });
    assert.deepEqual(slots.filter((e) => e.data.userId === 'fay' && e.data.category === 'hourly').map((e) => Date.parse(String(e.data.at))), [first, second], 'each slot at the time its send goes');
  });

  it('over a limit that defers, the send is scheduled when the user\'s window has room again', async () => {
    const ctx = context(cap(1, 'defer'));
    assert.equal((await status(ctx, 'eve', 'news')).status, 'requested');
    const held = await status(ctx, 'eve', 'tips');
    assert.equal(held.status, 'scheduled');
    const [requested] = await store.readStream(`notification-${held.id}`);
    const nextDay = new Date((bucketOf(Date.now(), cap(1)) + 1) * 86_400_000).toISOString();
    assert.deepEqual([requested!.data.sendAt, requested!.data.heldFor], [nextDay, 'rate_limited']);
  });
});
