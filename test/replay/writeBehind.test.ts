import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import type { CommitOptions, DocChange } from '../../src/ports/readModelStore.ts';
import { WriteBehind } from '../../src/processors/writeBehind.ts';

/** The SQLite read-model store with its commits held back until `release`: a commit in flight, for as long as a test needs. */
class HeldStore extends SqliteReadModelStore {
  private held: (() => void)[] = [];
  reads: string[][] = [];
  override async commit(changes: readonly DocChange[], checkpoint?: { name: string; position: number }, options?: CommitOptions) {
    await new Promise<void>((resolve) => this.held.push(resolve));
    return super.commit(changes, checkpoint, options);
  }
  override async getMany(collection: string, ids: readonly string[]) {
    this.reads.push([...ids]);
    return super.getMany(collection, ids);
  }
  release(): void {
    for (const resume of this.held.splice(0)) resume();
  }
}

const doc = (id: string, position: number, v: number | null): DocChange => ({ collection: 'c', id, position, doc: v === null ? null : { v } });
const checkpoint = (position: number) => ({ name: 'build', position });

describe('WriteBehind: a flush is written while the pass goes on, and reads never wait for it', () => {
  const dirs: string[] = [];
  const open = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-writebehind-'));
    dirs.push(dir);
    const store = new HeldStore(join(dir, 'r.db'));
    await store.ensureCollection({ name: 'c', indexes: [] });
    return store;
  };
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('answers from the flush in flight, from the store for the rest, in the order asked, and the store has it all once settled', async () => {
    const store = await open();
    const writes = new WriteBehind(store);
    writes.start([{ collection: 'c', changes: [doc('a', 1, 1), doc('b', 2, 2)], checkpoint: checkpoint(2) }]);
    store.release();
    await writes.settled();
    writes.start([{ collection: 'c', changes: [doc('b', 3, 3), doc('c', 4, 4), doc('a', 5, null)], checkpoint: checkpoint(5) }]);
    // The second flush is held: the store still has the first.
    assert.deepEqual((await store.get('c', 'b'))?.doc, { v: 2 });
    const found = await writes.getMany('c', ['x', 'c', 'a', 'b']);
    assert.deepEqual([...found.keys()], ['c', 'b'], 'in the order asked; the deleted a and the unknown x are not found');
    assert.deepEqual(found.get('b'), { id: 'b', position: 3, doc: { v: 3 } });
    assert.deepEqual(store.reads.at(-1), ['x'], 'only what the flush in flight does not hold goes to the store');
    store.release();
    await writes.settled();
    assert.deepEqual((await store.get('c', 'b'))?.doc, { v: 3 });
    assert.equal(await store.get('c', 'a'), null);
    assert.equal(await store.getCheckpoint('build'), 5);
    assert.deepEqual([...(await writes.getMany('c', ['b', 'c'])).keys()], ['b', 'c']);
    assert.deepEqual(store.reads.at(-1), ['b', 'c'], 'once written, reads go to the store');
    await store.close();
  });

  it('keeps several flushes in flight: reads take the latest that has a document, and room waits for the oldest', async () => {
    const store = await open();
    const writes = new WriteBehind(store, 2);
    writes.start([{ collection: 'c', changes: [doc('a', 1, 1), doc('b', 2, 2)], checkpoint: checkpoint(2) }]);
    await writes.room();
    // The second flush keeps only `a` for reads: `d` is written but never asked for while in flight.
    writes.start([{ collection: 'c', changes: [doc('a', 3, 3), doc('d', 4, 4)], checkpoint: checkpoint(4), readBack: [doc('a', 3, 3)] }]);
    const found = await writes.getMany('c', ['a', 'b', 'd']);
    assert.deepEqual([...found.entries()].map(([id, d]) => [id, d.doc]), [['a', { v: 3 }], ['b', { v: 2 }]], 'a from the newer flight, b from the older, d not kept');
    let roomy = false;
    const room = writes.room().then(() => (roomy = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(roomy, false, 'two in flight: no room until the oldest is written');
    store.release();
    await room;
    store.release();
    await writes.settled();
    assert.deepEqual((await store.get('c', 'd'))?.doc, { v: 4 });
    assert.equal(await store.getCheckpoint('build'), 4);
    await store.close();
  });

  it('throws a failed flush at the next wait for it, not as an unhandled rejection', async () => {
    const store = await open();
    const writes = new WriteBehind(store);
    writes.start([{ collection: 'no_such_collection', changes: [{ collection: 'no_such_collection', id: 'a', position: 1, doc: { v: 1 } }], checkpoint: checkpoint(1) }]);
    store.release();
    await new Promise((resolve) => setImmediate(resolve));
    await assert.rejects(writes.settled(), /no such table/);
    await store.close();
  });
});
