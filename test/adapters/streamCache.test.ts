/**
 * Stream reads served from the connection's cache of recent streams (streamCache.ts): each read
 * checks the stream's revision first, so it always shows what another connection appended since.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { linkedStores } from '../support/linkedStores.ts';
import { StreamCache } from '../../src/adapters/eventStore/sqlite/streamCache.ts';
import { WrongExpectedRevisionError, type RecordedEvent } from '../../src/ports/eventStore.ts';

const event = (n: number) => ({ type: 'Thing', data: { n } });
const ns = (events: readonly RecordedEvent[]) => events.map((e) => (e.data as { n: number }).n);

describe('stream reads on a connection that holds recent streams', () => {
  it('show what another connection appended since the last read, and every page of it', async () => {
    const s = await linkedStores('herald-streamcache-');
    try {
      await s.api.append('thing-1', [event(0), event(1)], 'no_stream');
      assert.deepEqual(ns(await s.worker.readStream('thing-1')), [0, 1]);
      await s.api.append('thing-1', [event(2)], 1);
      assert.deepEqual(ns(await s.worker.readStream('thing-1')), [0, 1, 2]);
      assert.deepEqual(ns(await s.worker.readStream('thing-1', { fromRevision: 1 })), [1, 2]);
      assert.deepEqual(ns(await s.worker.readStream('thing-1', { fromRevision: 1, maxCount: 1 })), [1]);
      assert.deepEqual(ns(await s.worker.readStream('thing-1', { fromRevision: 5 })), []);
      // A page of a stream this connection does not hold is read as asked.
      assert.deepEqual(ns(await s.api.readStream('thing-1', { fromRevision: 2, maxCount: 5 })), [2]);
      assert.deepEqual(await s.worker.readStream('thing-2'), []);
      // A caller changing the array it got does not change what the next read gets.
      const first = await s.worker.readStream('thing-1');
      first.pop();
      assert.deepEqual(ns(await s.worker.readStream('thing-1')), [0, 1, 2]);
    } finally {
      await s.close();
    }
  });

  it('never shows an append that failed on its expected revision', async () => {
    const s = await linkedStores('herald-streamcache-');
    try {
      await s.worker.append('thing-1', [event(0)], 'no_stream');
      assert.deepEqual(ns(await s.worker.readStream('thing-1')), [0]);
      await assert.rejects(s.worker.append('thing-1', [event(9)], 5), WrongExpectedRevisionError);
      await s.worker.append('thing-1', [event(1)], 0);
      assert.deepEqual(ns(await s.worker.readStream('thing-1')), [0, 1]);
    } finally {
      await s.close();
    }
  });

  it('hold what this connection appended to a stream it holds, exactly as the other connection reads it', async () => {
    const s = await linkedStores('herald-streamcache-');
    try {
      await s.worker.append('window-1', [event(0)], 'no_stream');
      assert.deepEqual(ns(await s.worker.readStream('window-1')), [0]);
      await s.worker.append('window-1', [event(1), event(2)], 0);
      await s.worker.appendInOrder([{ stream: 'window-1', events: [event(3)], expected: 2 }, { stream: 'other-1', events: [event(0)], expected: 'no_stream' }]);
      const held = await s.worker.readStream('window-1');
      assert.deepEqual(ns(held), [0, 1, 2, 3]);
      assert.deepEqual(held, await s.api.readStream('window-1'), 'positions, times, data and metadata as stored');
      // An append that failed on its revision, alone or in order after one that was written, adds nothing.
      await assert.rejects(s.worker.append('window-1', [event(9)], 0), WrongExpectedRevisionError);
      await assert.rejects(s.worker.appendInOrder([{ stream: 'other-1', events: [event(1)], expected: 0 }, { stream: 'window-1', events: [event(9)], expected: 1 }]), WrongExpectedRevisionError);
      assert.deepEqual(ns(await s.worker.readStream('window-1')), [0, 1, 2, 3]);
      assert.deepEqual(ns(await s.worker.readStream('other-1')), [0, 1]);
      // Another connection's append in between is read as before.
      await s.api.append('window-1', [event(4)], 3);
      await s.worker.append('window-1', [event(5)], 4);
      assert.deepEqual(ns(await s.worker.readStream('window-1')), [0, 1, 2, 3, 4, 5]);
    } finally {
      await s.close();
    }
  });

  it('take the event a delivery group handed over as the start of its stream, and read on past it', async () => {
    const s = await linkedStores('herald-streamcache-');
    try {
      await s.worker.ensurePersistentSubscription('g', { filter: { eventTypes: ['Thing'] } });
      const consumer = s.worker.connectPersistentSubscription('g');
      await s.api.append('thing-1', [event(0)], 'no_stream');
      const [handed] = await consumer.nextBatch(10);
      const [read] = await s.worker.readStream('thing-1');
      // The very object the group handed over: no row was read for it.
      assert.equal(read, handed!.event);
      await s.api.append('thing-1', [event(1)], 0);
      assert.deepEqual(ns(await s.worker.readStream('thing-1')), [0, 1]);
      await consumer.close();
    } finally {
      await s.close();
    }
  });
});

describe('StreamCache', () => {
  const recorded = (stream: string, revision: number): RecordedEvent => ({ id: `${stream}/${revision}`, streamName: stream, revision, position: revision + 1, type: 'Thing', data: {}, metadata: {}, created: 0 });

  it('extends a held stream only with its next revision', () => {
    const cache = new StreamCache();
    cache.seen(recorded('a', 1));
    assert.equal(cache.get('a'), undefined);
    cache.seen(recorded('a', 0));
    cache.seen(recorded('a', 2));
    assert.equal(cache.get('a')?.length, 1);
    cache.seen(recorded('a', 1));
    assert.deepEqual(cache.get('a')?.map((e) => e.revision), [0, 1]);
    // A first event seen again (a page read twice) does not cut the stream back.
    cache.seen(recorded('a', 0));
    assert.equal(cache.get('a')?.length, 2);
  });

  it('drops the streams not read during the last generation, keeps the ones read', () => {
    const cache = new StreamCache(2);
    cache.set('a', [recorded('a', 0)]);
    cache.set('b', [recorded('b', 0)]);
    cache.set('c', [recorded('c', 0)]); // a and b are now the older generation
    assert.ok(cache.get('a')); // read: moved to the recent one
    cache.set('d', [recorded('d', 0)]); // c and a are now the older generation; b is gone
    assert.equal(cache.get('b'), undefined);
    assert.ok(cache.get('a'));
    assert.ok(cache.get('c'));
  });

  it('starts a new generation once the recent one holds its share of events, however few streams', () => {
    const cache = new StreamCache(10_000, 5);
    const stream = (name: string, n: number) => Array.from({ length: n }, (_, i) => recorded(name, i));
    cache.set('a', stream('a', 3));
    cache.set('b', stream('b', 2)); // 5 events: still one generation
    cache.set('c', stream('c', 1)); // would be 6: a and b become the older generation
    assert.ok(cache.get('c'));
    cache.set('d', stream('d', 5)); // c and d would be 6 (a, b dropped); d starts anew with c older
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('d')?.length, 5);
  });

  it('does not hold a long stream', () => {
    const cache = new StreamCache();
    cache.set('long', Array.from({ length: 1001 }, (_, i) => recorded('long', i)));
    assert.equal(cache.get('long'), undefined);
  });
});
