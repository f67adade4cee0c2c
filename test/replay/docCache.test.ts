import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import type { Recorded } from '../../src/domain/events.ts';
import { DocCache, type Keyed } from '../../src/processors/docCache.ts';
import { analytics } from '../../src/projections/analytics.ts';
import { notificationLog } from '../../src/projections/notificationLog.ts';

const at = '2026-11-23T10:15:00.000Z';
let position = 0;
const requested = (n: number): Keyed => {
  const notificationId = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const event = {
    type: 'NotificationRequested', streamName: `notification-${notificationId}`, revision: 0, position: ++position, metadata: {},
    data: { notificationId, userId: 'u1', channel: 'sms', category: 'orders', content: { sms: { body: 'b' } }, routes: ['sms'], priority: 'normal', at },
  } as unknown as Recorded;
  return { event, key: notificationLog.keyOf(event)! };
};
const forAnalytics = (item: Keyed): Keyed => ({ event: item.event, key: analytics.keyOf(item.event)! });

/** The SQLite read-model store, counting its getMany round trips. */
class CountingStore extends SqliteReadModelStore {
  rounds = 0;
  override async getMany(collection: string, ids: readonly string[]) {
    this.rounds += 1;
    return super.getMany(collection, ids);
  }
}

describe('DocCache loads what it does not hold in as few round trips as it can', () => {
  const dirs: string[] = [];
  const store = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-doccache-'));
    dirs.push(dir);
    return new CountingStore(join(dir, 'r.db'));
  };
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('live (the store may hold any document): one round trip for a whole batch of main documents, one more for fan-out documents', async () => {
    const readModels = await store();
    await readModels.ensureCollection(analytics.collection);
    const items = Array.from({ length: 50 }, (_, n) => forAnalytics(requested(n)));
    const docs = new DocCache(readModels, analytics, 'analytics', true);
    await docs.apply(items);
    assert.equal(readModels.rounds, 2, 'the 50 notification documents in one getMany, then their day and hour buckets in another');
    const written = docs.takeChanges();
    assert.equal(written.length, 52, '50 notification documents and 2 buckets');
    await readModels.commit(written);

    // The next batch finds the buckets in the store, and the earlier documents' events are skipped by position.
    readModels.rounds = 0;
    const next = new DocCache(readModels, analytics, 'analytics', true);
    await next.apply([...items.slice(0, 5), ...Array.from({ length: 5 }, (_, n) => forAnalytics(requested(100 + n)))]);
    assert.equal(readModels.rounds, 2);
    const changes = next.takeChanges();
    assert.deepEqual(changes.filter((c) => c.id.startsWith('day|')).map((c) => (c.doc as { requested: number }).requested), [55], 'the day bucket counts the 5 new ones on top of the stored 50');
    assert.equal(changes.filter((c) => c.id.startsWith('n|')).length, 5, 'only the new notifications are written');
    await readModels.close();
  });

  it('a fresh build (nothing stored yet): no round trip at all', async () => {
    const readModels = await store();
    await readModels.ensureCollection({ name: 'notifications__build', indexes: [] });
    const docs = new DocCache(readModels, notificationLog, 'notifications__build', false);
    await docs.apply(Array.from({ length: 50 }, (_, n) => requested(1000 + n)));
    assert.equal(readModels.rounds, 0);
    assert.equal(docs.takeChanges().length, 50);
    await readModels.close();
  });
});
