import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import type { Recorded } from '../../src/domain/events.ts';
import { DocCache, type Keyed } from '../../src/processors/docCache.ts';
import { ProjectionFault } from '../../src/processors/projectionFault.ts';
import type { Projection } from '../../src/projections/projection.ts';
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
const sent = (item: Keyed): Keyed => ({ ...item, event: { ...item.event, type: 'NotificationSent', position: ++position, data: { notificationId: item.key, route: 'sms', provider: 'p', deliveries: [], rejected: [], at } } as unknown as Recorded });
const forAnalytics = (item: Keyed): Keyed => ({ event: item.event, key: analytics.keyOf(item.event)! });

/** The SQLite read-model store, counting its getMany round trips. */
class CountingStore extends SqliteReadModelStore {
  rounds = 0;
  ids = 0;
  override async getMany(collection: string, ids: readonly string[]) {
    this.rounds += 1;
    this.ids += ids.length;
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

  it('a fresh build reads evicted documents back, all those of a batch in one round trip', async () => {
    const readModels = await store();
    await readModels.ensureCollection({ name: 'notifications__build', indexes: [] });
    const docs = new DocCache(readModels, notificationLog, 'notifications__build', false);
    const first = Array.from({ length: 10 }, (_, n) => requested(2000 + n));
    await docs.apply(first);
    await readModels.commit(docs.takeChanges());
    docs.evict(0, position);
    assert.equal(readModels.rounds, 0);

    // A later event of an evicted notification, then one never seen (absent: no round trip for it).
    await docs.apply([requested(3000), sent(first[2]!), sent(first[7]!), requested(3001)]);
    assert.equal(readModels.rounds, 1, 'both evicted documents in one getMany');
    const changes = docs.takeChanges();
    assert.deepEqual(changes.map((c) => c.id), [requested(3000).key, first[2]!.key, first[7]!.key, requested(3001).key].map((k) => k));
    const log = changes[1]!.doc as { events: { type: string }[]; routes: Record<string, string> };
    assert.deepEqual(log.events.map((e) => e.type), ['NotificationRequested', 'NotificationSent'], 'the evicted document came back and took the event');
    assert.equal(log.routes.sms, 'sent');
    await readModels.close();
  });

  it('past the evictions it remembers, a fresh build asks the store for every id it does not hold, and still finds evicted documents', async () => {
    const readModels = await store();
    await readModels.ensureCollection({ name: 'notifications__build', indexes: [] });
    const docs = new DocCache(readModels, notificationLog, 'notifications__build', false, 5);
    const first = Array.from({ length: 10 }, (_, n) => requested(4000 + n));
    await docs.apply(first);
    await readModels.commit(docs.takeChanges());
    docs.evict(0, position);
    assert.equal(readModels.rounds, 0);

    await docs.apply([requested(4100), sent(first[3]!)]);
    assert.equal(readModels.rounds, 1, 'the new id and the evicted one, asked together');
    const changes = docs.takeChanges();
    assert.deepEqual(changes.map((c) => c.id), [requested(4100).key, first[3]!.key]);
    assert.equal((changes[1]!.doc as { routes: Record<string, string> }).routes.sms, 'sent', 'the evicted document came back from the store and took the event');
    assert.equal((changes[0]!.doc as { events: unknown[] }).events.length, 1, 'the new one was absent from the store');
    await readModels.close();
  });

  it('a projection that throws on a fan-out document changes no document of that event', async () => {
    const readModels = await store();
    await readModels.ensureCollection({ name: 'counts', indexes: [] });
    // Counts each event in its main document and in a shared total, which refuses the third.
    const counting: Projection = {
      name: 'counts', version: 1, collection: { name: 'counts', indexes: [] }, eventTypes: ['NotificationRequested'],
      keyOf: (event) => event.streamName,
      evolve: (doc) => ({ n: ((doc?.n as number | undefined) ?? 0) + 1 }),
      evolveWithFanOut: (doc) => ({
        doc: { n: ((doc?.n as number | undefined) ?? 0) + 1 },
        fanOut: [{ key: 'total', evolve: (total) => {
          const n = ((total?.n as number | undefined) ?? 0) + 1;
          if (n === 3) throw new Error('no third');
          return { n };
        } }],
      }),
    };
    const docs = new DocCache(readModels, counting, 'counts', false);
    const items = [requested(4000), requested(4001), requested(4002)].map((i) => ({ event: i.event, key: i.event.streamName }));
    await assert.rejects(docs.apply(items), ProjectionFault);
    const changes = docs.takeChanges();
    assert.deepEqual(changes.map((c) => [c.id, c.doc]), [[items[0]!.key, { n: 1 }], ['total', { n: 2 }], [items[1]!.key, { n: 1 }]], 'the third main document is not written');
    await readModels.close();
  });

  it('a fan-out to the main document, or twice to one document, is applied once per event', async () => {
    const readModels = await store();
    await readModels.ensureCollection({ name: 'marks', indexes: [] });
    const mark = (doc: Record<string, unknown> | null, by: string) => ({ by: [...((doc?.by as string[] | undefined) ?? []), by] });
    const marking = (writesMain: boolean): Projection => ({
      name: 'marks', version: 1, collection: { name: 'marks', indexes: [] }, eventTypes: ['NotificationRequested'],
      keyOf: () => 'main',
      evolve: (doc) => doc,
      evolveWithFanOut: (doc) => ({
        doc: writesMain ? mark(doc, 'main') : null,
        fanOut: [{ key: 'main', evolve: (d) => mark(d, 'fan-out 1') }, { key: 'other', evolve: (d) => mark(d, 'fan-out 2') }, { key: 'other', evolve: (d) => mark(d, 'fan-out 3') }],
      }),
    });
    const written = async (writesMain: boolean) => {
      const docs = new DocCache(readModels, marking(writesMain), 'marks', false);
      await docs.apply([{ event: requested(5000).event, key: 'main' }]);
      return docs.takeChanges().map((c) => [c.id, c.doc]);
    };
    assert.deepEqual(await written(true), [['main', { by: ['main'] }], ['other', { by: ['fan-out 2'] }]], 'the main write has the event already');
    assert.deepEqual(await written(false), [['main', { by: ['fan-out 1'] }], ['other', { by: ['fan-out 2'] }]], 'no main write: the fan-out to it applies');
    await readModels.close();
  });

  it('an eviction keeps at most `max` documents: the clean ones written longest ago go first', async () => {
    const readModels = await store();
    await readModels.ensureCollection({ name: 'notifications__build', indexes: [] });
    const docs = new DocCache(readModels, notificationLog, 'notifications__build', false);
    const items = Array.from({ length: 10 }, (_, n) => requested(6000 + n));
    await docs.apply(items.slice(0, 6));
    await readModels.commit(docs.takeChanges());
    docs.evict(100, position);
    await docs.apply(items.slice(6));
    await readModels.commit(docs.takeChanges());
    // The last four were written since the last eviction: spared while older ones can go.
    docs.evict(4, position);
    await docs.apply(items.map(sent));
    assert.equal(readModels.rounds, 1);
    assert.equal(readModels.ids, 6, 'the six written first are read back; the four kept are not');
    const changes = docs.takeChanges();
    assert.equal(changes.length, 10);
    await readModels.commit(changes);

    // Every one of them written since: the second pass drops the oldest of those too.
    docs.evict(3, position);
    await docs.apply(items.map(sent));
    assert.equal(readModels.ids, 6 + 7);
    await readModels.close();
  });
});
