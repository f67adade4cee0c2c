/**
 * The read-model store port's contract. Every adapter's spec calls `readModelStoreContract`;
 * collection names are unique per test so a shared real server is fine.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ReadModelStore } from '../../src/ports/readModelStore.ts';

export interface ReadModelStoreHarness {
  open(): Promise<ReadModelStore>;
  cleanup(): Promise<void>;
}

const unique = (label: string) => `${label}_${randomUUID().replaceAll('-', '').slice(0, 10)}`;

export function readModelStoreContract(adapter: string, makeHarness: () => Promise<ReadModelStoreHarness>): void {
  const run = (body: (store: ReadModelStore, h: ReadModelStoreHarness) => Promise<void>) => async () => {
    const harness = await makeHarness();
    const store = await harness.open();
    try {
      await body(store, harness);
    } finally {
      await store.close();
      await harness.cleanup();
    }
  };

  describe(`read-model store contract: ${adapter}`, () => {
    it('stores documents with their position and reads them by id', run(async (store) => {
      const c = unique('docs');
      await store.ensureCollection({ name: c, indexes: ['userId'] });
      await store.commit([{ collection: c, id: 'n1', doc: { userId: 'u1', status: 'requested' }, position: 5 }]);
      assert.deepEqual(await store.get(c, 'n1'), { id: 'n1', position: 5, doc: { userId: 'u1', status: 'requested' } });
      assert.equal(await store.get(c, 'missing'), null);
      const many = await store.getMany(c, ['n1', 'missing']);
      assert.deepEqual([...many.keys()], ['n1']);
    }));

    it('reads many documents at once: those that exist, in the order asked, tombstones left out', run(async (store) => {
      const c = unique('many');
      await store.ensureCollection({ name: c, indexes: [] });
      // More ids than one SQL `IN` list holds, so the adapter has to split the read.
      const ids = Array.from({ length: 1300 }, (_, i) => `d${String(i).padStart(4, '0')}`);
      await store.commit(ids.map((id, i) => ({ collection: c, id, doc: { i }, position: i + 1 })));
      await store.commit([{ collection: c, id: 'd0007', doc: null, position: 5000 }]);
      const asked = ['missing', ...[...ids].reverse(), 'd0001', 'd0001'];
      const many = await store.getMany(c, asked);
      const expected = [...ids].reverse().filter((id) => id !== 'd0007');
      assert.deepEqual([...many.keys()], expected);
      assert.deepEqual(many.get('d1299'), { id: 'd1299', position: 1300, doc: { i: 1299 } });
      assert.equal((await store.getMany(c, [])).size, 0);
      assert.equal((await store.getMany(unique('absent'), ['a'])).size, 0);
    }));

    it('applying the same or an older position again changes nothing', run(async (store) => {
      const c = unique('guard');
      await store.ensureCollection({ name: c, indexes: [] });
      await store.commit([{ collection: c, id: 'a', doc: { v: 2 }, position: 10 }]);
      await store.commit([{ collection: c, id: 'a', doc: { v: 99 }, position: 10 }]);
      await store.commit([{ collection: c, id: 'a', doc: { v: 1 }, position: 7 }]);
      assert.deepEqual((await store.get(c, 'a'))?.doc, { v: 2 });
      await store.commit([{ collection: c, id: 'a', doc: { v: 3 }, position: 11 }]);
      assert.deepEqual(await store.get(c, 'a'), { id: 'a', position: 11, doc: { v: 3 } });
    }));

    it('a replacing commit writes every change whatever the stored position, stable index columns and tombstones included', run(async (store) => {
      const c = unique('replace');
      await store.ensureCollection({ name: c, indexes: [{ fields: ['userId', 'at'], stable: true }, 'status'] });
      await store.commit([{ collection: c, id: 'a', doc: { userId: 'u1', at: '1', status: 'sent' }, position: 10 }, { collection: c, id: 'b', doc: { userId: 'u2', at: '2', status: 'sent' }, position: 4 }]);
      await store.commit([
        { collection: c, id: 'a', doc: { userId: 'u1', at: '1', status: 'opened' }, position: 10 },
        { collection: c, id: 'b', doc: null, position: 3 },
        { collection: c, id: 'n', doc: { userId: 'u3', at: '3', status: 'sent' }, position: 1 },
      ], { name: `${c}-progress`, position: 7 }, { replace: true });
      assert.deepEqual(await store.get(c, 'a'), { id: 'a', position: 10, doc: { userId: 'u1', at: '1', status: 'opened' } });
      assert.equal(await store.get(c, 'b'), null);
      assert.deepEqual(await store.get(c, 'n'), { id: 'n', position: 1, doc: { userId: 'u3', at: '3', status: 'sent' } });
      assert.deepEqual((await store.find(c, { where: { userId: 'u2' } })).map((d) => d.id), [], 'a replaced tombstone leaves the stable index');
      assert.deepEqual((await store.find(c, { where: { status: 'opened' } })).map((d) => d.id), ['a']);
      assert.equal(await store.getCheckpoint(`${c}-progress`), 7);
      // The guard holds again for ordinary commits: the tombstone's position 3 still wins over 2.
      await store.commit([{ collection: c, id: 'b', doc: { userId: 'u2', at: '2', status: 'sent' }, position: 2 }]);
      assert.equal(await store.get(c, 'b'), null);
    }));

    it('a deleted document stays deleted when an older event is applied again', run(async (store) => {
      const c = unique('tomb');
      await store.ensureCollection({ name: c, indexes: ['k'] });
      await store.commit([{ collection: c, id: 'a', doc: { k: 'x' }, position: 1 }]);
      await store.commit([{ collection: c, id: 'a', doc: null, position: 2 }]);
      await store.commit([{ collection: c, id: 'a', doc: { k: 'x' }, position: 1 }]);
      assert.equal(await store.get(c, 'a'), null);
      assert.equal(await store.count(c, { where: { k: 'x' } }), 0);
      assert.equal(await store.count(c, { range: { field: 'k', gte: 'a', lte: 'z' } }), 0);
      assert.deepEqual(await store.find(c, { where: { k: 'x' } }), []);
      assert.equal(await store.count(c), 0);
    }));

    it('finds by indexed fields with order, range, limit and offset, and counts', run(async (store) => {
      const c = unique('find');
      await store.ensureCollection({ name: c, indexes: [['userId', 'at'], 'status'] });
      const docs = [
        { id: 'a', doc: { userId: 'u1', at: 3, status: 'sent' } },
        { id: 'b', doc: { userId: 'u1', at: 1, status: 'failed' } },
        { id: 'c', doc: { userId: 'u2', at: 2, status: 'sent' } },
        { id: 'd', doc: { userId: 'u1', at: 2, status: 'sent', flag: true } },
      ];
      await store.commit(docs.map((d, i) => ({ collection: c, ...d, position: i + 1 })));
      const u1 = await store.find(c, { where: { userId: 'u1' }, orderBy: { field: 'at', direction: 'desc' } });
      assert.deepEqual(u1.map((d) => d.id), ['a', 'd', 'b']);
      const page = await store.find(c, { where: { userId: 'u1' }, orderBy: { field: 'at', direction: 'asc' }, limit: 1, offset: 1 });
      assert.deepEqual(page.map((d) => d.id), ['d']);
      const ranged = await store.find(c, { range: { field: 'at', gte: 2, lte: 2 }, orderBy: { field: 'at', direction: 'asc' } });
      assert.deepEqual(ranged.map((d) => d.id).sort(), ['c', 'd']);
      assert.equal(await store.count(c, { where: { status: 'sent' } }), 3);
      assert.equal(await store.count(c), 4);
      assert.deepEqual((await store.find(c, { where: { userId: 'u1', status: 'failed' } })).map((d) => d.id), ['b']);
      // A field without an index narrows what the indexed one finds.
      assert.deepEqual((await store.find(c, { where: { userId: 'u1', flag: true }, orderBy: { field: 'at', direction: 'desc' } })).map((d) => d.id), ['d']);
    }));

    it('orders ties by id in the order\'s direction, and pages with `after` without repeating or skipping while documents are added', run(async (store) => {
      const c = unique('keyset');
      await store.ensureCollection({ name: c, indexes: [{ fields: ['userId', 'at'], stable: true }] });
      // Three documents share each time, as a send to push, SMS and email does; one belongs to another user.
      const docs = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'c1', 'c2', 'c3'].map((id, i) => ({ collection: c, id, doc: { userId: 'u1', at: `2026-11-23T10:00:0${Math.floor(i / 3)}Z` }, position: i + 1 }));
      await store.commit([...docs, { collection: c, id: 'x1', doc: { userId: 'u2', at: '2026-11-23T10:00:01Z' }, position: 10 }]);
      const desc = { field: 'at', direction: 'desc' } as const;
      const all = (await store.find(c, { where: { userId: 'u1' }, orderBy: desc })).map((d) => d.id);
      assert.deepEqual(all, ['c3', 'c2', 'c1', 'b3', 'b2', 'b1', 'a3', 'a2', 'a1']);
      assert.deepEqual((await store.find(c, { where: { userId: 'u1' }, orderBy: { field: 'at', direction: 'asc' } })).map((d) => d.id), [...all].reverse());

      const seen: string[] = [];
      let after: { value: string; id: string } | undefined;
      for (let page = 0; page < 10; page++) {
        const found = await store.find(c, { where: { userId: 'u1' }, orderBy: desc, limit: 2, ...(after ? { after } : {}) });
        if (found.length === 0) break;
        seen.push(...found.map((d) => d.id));
        const last = found.at(-1)!;
        after = { value: last.doc.at as string, id: last.id };
        // Newer documents arrive between pages: an offset would now repeat the page before.
        if (page === 0) await store.commit([{ collection: c, id: 'd1', doc: { userId: 'u1', at: '2026-11-23T10:00:09Z' }, position: 11 }]);
      }
      assert.deepEqual(seen, all, 'every document of the first listing once, in order');
      const ascending = await store.find(c, { where: { userId: 'u1' }, orderBy: { field: 'at', direction: 'asc' }, after: { value: '2026-11-23T10:00:01Z', id: 'b2' } });
      assert.deepEqual(ascending.map((d) => d.id), ['b3', 'c1', 'c2', 'c3', 'd1']);
    }));

    it('answers queries through a sparse index, and applies a changed index list on the next ensure', run(async (store) => {
      const c = unique('sparse');
      await store.ensureCollection({ name: c, indexes: [{ fields: ['kind', 'at'], sparse: true }, 'owner'] });
      await store.commit([
        { collection: c, id: 'b1', doc: { kind: 'bucket', at: 2, owner: 'x' }, position: 1 },
        { collection: c, id: 'b2', doc: { kind: 'bucket', at: 1 }, position: 2 },
        { collection: c, id: 'n1', doc: { owner: 'x', note: 'no kind' }, position: 3 },
        { collection: c, id: 'b3', doc: { kind: 'other', at: 5 }, position: 4 },
      ]);
      const check = async () => {
        const buckets = await store.find(c, { where: { kind: 'bucket' }, range: { field: 'at', gte: 1, lte: 3 }, orderBy: { field: 'at', direction: 'asc' } });
        assert.deepEqual(buckets.map((d) => d.id), ['b2', 'b1']);
        assert.equal(await store.count(c), 4);
        assert.deepEqual((await store.find(c, { where: { owner: 'x' } })).map((d) => d.id).sort(), ['b1', 'n1']);
        assert.deepEqual((await store.get(c, 'n1'))?.doc, { owner: 'x', note: 'no kind' });
      };
      await check();
      // The same keys, no longer sparse; then the sparse one back and 'owner' gone: same answers, no conflict.
      await store.ensureCollection({ name: c, indexes: [['kind', 'at'], 'owner'] });
      await check();
      await store.ensureCollection({ name: c, indexes: [{ fields: ['kind', 'at'], sparse: true }] });
      await check();
      await store.ensureCollection({ name: c, indexes: [{ fields: ['kind', 'at'], sparse: true }] });
      await check();
    }));

    it('answers right through a stable index whether an update leaves its fields alone, changes them, deletes or brings back the document', run(async (store) => {
      const c = unique('stable');
      const spec = { name: c, indexes: [{ fields: ['userId', 'at'], stable: true }, 'status', { fields: ['vip'], stable: true, sparse: true }] };
      await store.ensureCollection(spec);
      await store.commit([
        { collection: c, id: 'a', doc: { userId: 'u1', at: 1, status: 'requested', vip: true }, position: 1 },
        { collection: c, id: 'b', doc: { userId: 'u1', at: 2, status: 'requested' }, position: 2 },
        { collection: c, id: 'c', doc: { userId: 'u2', at: 3, status: 'requested', vip: false }, position: 3 },
      ]);
      const ids = async (userId: string) => (await store.find(c, { where: { userId }, orderBy: { field: 'at', direction: 'desc' } })).map((d) => d.id);
      assert.deepEqual(await ids('u1'), ['b', 'a']);
      // Only the status changes: the same answers, the new document.
      await store.commit([{ collection: c, id: 'a', doc: { userId: 'u1', at: 1, status: 'sent', vip: true }, position: 4 }]);
      assert.deepEqual(await ids('u1'), ['b', 'a']);
      assert.equal((await store.get(c, 'a'))?.doc.status, 'sent');
      assert.equal(await store.count(c, { where: { status: 'sent' } }), 1);
      // A stable field changes after all: found under its new value only.
      await store.commit([{ collection: c, id: 'b', doc: { userId: 'u2', at: 2, status: 'sent' }, position: 5 }]);
      assert.deepEqual(await ids('u1'), ['a']);
      assert.deepEqual(await ids('u2'), ['c', 'b']);
      // An older event applied again changes nothing.
      await store.commit([{ collection: c, id: 'b', doc: { userId: 'u1', at: 2, status: 'requested' }, position: 2 }]);
      assert.deepEqual(await ids('u2'), ['c', 'b']);
      assert.equal((await store.get(c, 'b'))?.position, 5);
      // Deleted: gone from answers and counts; back at a later position: found again.
      await store.commit([{ collection: c, id: 'c', doc: null, position: 6 }]);
      assert.deepEqual(await ids('u2'), ['b']);
      assert.equal(await store.count(c, { where: { userId: 'u2' } }), 1);
      assert.equal(await store.count(c, { where: { vip: false } }), 0);
      await store.commit([{ collection: c, id: 'c', doc: { userId: 'u2', at: 7, status: 'requested', vip: false }, position: 7 }]);
      assert.deepEqual(await ids('u2'), ['c', 'b']);
      // A document without the fields; booleans; ranges.
      await store.commit([{ collection: c, id: 'd', doc: { status: 'requested' }, position: 8 }]);
      assert.equal(await store.count(c), 4);
      assert.deepEqual((await store.find(c, { where: { vip: true } })).map((d) => d.id), ['a']);
      assert.deepEqual((await store.find(c, { where: { vip: false } })).map((d) => d.id), ['c']);
      assert.equal(await store.count(c, { where: { userId: 'u2' }, range: { field: 'at', gte: 3 } }), 1);
      // The hint dropped and given again: the same answers.
      await store.ensureCollection({ name: c, indexes: [['userId', 'at'], 'status', 'vip'] });
      assert.deepEqual(await ids('u2'), ['c', 'b']);
      await store.ensureCollection(spec);
      assert.deepEqual(await ids('u2'), ['c', 'b']);
      assert.deepEqual(await ids('u1'), ['a']);
      assert.deepEqual((await store.find(c, { where: { vip: true } })).map((d) => d.id), ['a']);
    }));

    it('records checkpoints with the documents, never moving them backwards', run(async (store) => {
      const c = unique('cp');
      const name = unique('projection');
      await store.ensureCollection({ name: c, indexes: [] });
      assert.equal(await store.getCheckpoint(name), 0);
      await store.commit([{ collection: c, id: 'a', doc: { v: 1 }, position: 4 }], { name, position: 4 });
      await store.commit([], { name, position: 2 });
      assert.equal(await store.getCheckpoint(name), 4);
    }));

    it('keeps documents and checkpoints across close and reopen', run(async (store, harness) => {
      const c = unique('durable');
      const name = unique('projection');
      await store.ensureCollection({ name: c, indexes: [] });
      await store.commit([{ collection: c, id: 'a', doc: { v: 1 }, position: 3 }], { name, position: 3 });
      await store.close();
      const again = await harness.open();
      try {
        assert.deepEqual((await again.get(c, 'a'))?.doc, { v: 1 });
        assert.equal(await again.getCheckpoint(name), 3);
      } finally {
        await again.close();
      }
    }));

    it('swaps a rebuilt collection in place of the live one, indexes included', run(async (store) => {
      const live = unique('live');
      const build = `${live}_build`;
      await store.ensureCollection({ name: live, indexes: ['userId'] });
      await store.commit([{ collection: live, id: 'old', doc: { userId: 'u' }, position: 1 }]);
      await store.ensureCollection({ name: build, indexes: ['userId'] });
      await store.commit([{ collection: build, id: 'new', doc: { userId: 'u' }, position: 1 }]);
      await store.renameCollection(build, live);
      assert.deepEqual((await store.find(live, { where: { userId: 'u' } })).map((d) => d.id), ['new']);
      await store.ensureCollection({ name: build, indexes: ['userId'] });
      assert.equal(await store.count(build), 0);
      await store.ensureCollection({ name: live, indexes: ['userId'] });
      await store.dropCollection(build);
      await store.dropCollection(live);
      assert.equal(await store.get(live, 'new'), null);
      assert.deepEqual(await store.find(live), []);
    }));

    it('refuses collection and field names outside the shared rule, before touching the store', run(async (store) => {
      // Names are spliced into SQL and MongoDB paths: the rule is what keeps them harmless.
      const bad = /invalid collection name/;
      await assert.rejects(async () => store.ensureCollection({ name: 'x; DROP TABLE rm_checkpoints', indexes: [] }), bad);
      await assert.rejects(async () => store.get('Upper', 'id'), bad);
      await assert.rejects(async () => store.commit([{ collection: 'a-b', id: 'n1', doc: {}, position: 1 }]), bad);
      const c = unique('names');
      await store.ensureCollection({ name: c, indexes: [] });
      await assert.rejects(async () => store.ensureCollection({ name: c, indexes: ["status') IS NULL --"] }), /invalid field name/);
      await assert.rejects(async () => store.find(c, { where: { 'a.b': 1 } }), /invalid field name/);
      await assert.rejects(async () => store.count(c, { range: { field: '_id', gte: 0 } }), /invalid field name/);
      assert.equal(await store.count(c), 0);
    }));

    it('answers a ping while open', run(async (store) => {
      await assert.doesNotReject(store.ping());
    }));
  });
}
