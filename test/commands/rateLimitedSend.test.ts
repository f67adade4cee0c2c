import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { pooledUuidV7 } from '../../src/adapters/ids.ts';
import { configureCategory } from '../../src/commands/categories.ts';
import { IdempotencyKeyReusedError, sendNotification, type SendContext } from '../../src/commands/sendNotification.ts';
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
    // The repeat found its slot taken by its own slotId: only the notifications were appended, and both already existed.
    assert.deepEqual(calls, [['ratewindow', 'notification', 'notification'], ['notification', 'notification'], ['notification']]);
    assert.deepEqual(await lengths(), written, 'no event appended to a notification twice');
    await assert.rejects(sendNotification(ctx, { ...keyed, content: { email: { subject: 'Other', text: 'News' }, sms: { body: 'News' } } }), IdempotencyKeyReusedError);
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
