/**
 * Two SqliteEventStore instances on one file in one process, as the embedded default runs them
 * (API on the main thread, delivery and projections on a worker thread): commits wake the other
 * instance, group calls reach the instance that hosts the group, and both can write at once.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { linkedStores } from '../support/linkedStores.ts';
import { GroupNotRunningError, ThreadLink } from '../../src/adapters/eventStore/sqlite/threadLink.ts';
import { eventually } from '../support/wait.ts';

const event = (n: number) => ({ type: 'Thing', data: { n } });

describe('linked embedded event stores on one file', () => {
  it("wakes the other instance's catch-up subscription and persistent group on commit", async () => {
    const s = await linkedStores('herald-linked-');
    try {
      const sub = s.worker.subscribeToAll();
      await s.worker.ensurePersistentSubscription('g', { filter: { eventTypes: ['Thing'] } });
      const consumer = s.worker.connectPersistentSubscription('g');
      const waitingSub = sub.nextBatch(10);
      const waitingGroup = consumer.nextBatch(10);
      await s.api.append('thing-1', [event(1)], 'no_stream');
      const [caught, handed] = await Promise.all([waitingSub, waitingGroup]);
      assert.deepEqual(caught.map((e) => e.data), [{ n: 1 }]);
      assert.deepEqual(handed.map((e) => e.event.data), [{ n: 1 }]);
      await sub.close();
      await consumer.close();
    } finally {
      await s.close();
    }
  });

  it('wakes only the groups whose types were committed; a passed-over group still follows the head', async () => {
    const s = await linkedStores('herald-linked-');
    try {
      await s.worker.ensurePersistentSubscription('g', { filter: { eventTypes: ['Thing'] } });
      const consumer = s.worker.connectPersistentSubscription('g');
      // Every look of a group is one read of the log: count them on the host.
      const host = s.worker as unknown as { readPage: (...args: unknown[]) => unknown };
      const readPage = host.readPage.bind(host);
      let looks = 0;
      host.readPage = (...args: unknown[]) => {
        looks += 1;
        return readPage(...args);
      };
      const waiting = consumer.nextBatch(10);
      await new Promise((r) => setTimeout(r, 20));
      const before = looks;
      let last = 0;
      for (let i = 0; i < 5; i++) last = (await s.api.append(`other-${i}`, [{ type: 'Other', data: { i } }], 'no_stream')).position;
      assert.equal(looks, before, 'commits of types the group does not take do not make it read the log');
      await eventually(2000, 'the passed-over group looks again and moves its checkpoint to the head', async () =>
        ((await s.api.persistentSubscriptionInfo('g')).checkpoint >= last ? true : undefined));
      await s.api.append('thing-1', [event(1)], 'no_stream');
      assert.deepEqual((await waiting).map((e) => e.event.data), [{ n: 1 }]);
      await consumer.close();
    } finally {
      await s.close();
    }
  });

  it('answers info and replays parked events through the instance that hosts the group', async () => {
    const s = await linkedStores('herald-linked-');
    try {
      await s.worker.ensurePersistentSubscription('g', { filter: { eventTypes: ['Thing'] }, maxRetryCount: 0 });
      const consumer = s.worker.connectPersistentSubscription('g');
      await s.api.append('thing-1', [event(1), event(2)], 'no_stream');
      const taken = await consumer.nextBatch(2);
      assert.equal(taken.length, 2);
      // One held, one parked: the API instance sees the host's in-memory in-flight count.
      await consumer.nack('park', 'provider said no', taken[1]!);
      const info = await s.api.persistentSubscriptionInfo('g');
      assert.equal(info.inFlight, 1);
      // Parking reaches the disk through the host's write queue.
      await new Promise((r) => setTimeout(r, 50));
      const parked = await s.api.listParked('g');
      assert.deepEqual(parked.map((p) => [p.event.data, p.reason]), [[{ n: 2 }, 'provider said no']]);
      assert.equal(await s.api.replayParked('g'), 1);
      const again = await consumer.nextBatch(1);
      assert.deepEqual(again.map((e) => e.event.data), [{ n: 2 }]);
      await consumer.close();
    } finally {
      await s.close();
    }
  });

  it('says plainly when no instance in the process runs the group; a group never created has parked nothing', async () => {
    const s = await linkedStores('herald-linked-');
    try {
      await assert.rejects(s.api.persistentSubscriptionInfo('nobody'), GroupNotRunningError);
      assert.deepEqual(await s.api.listParked('nobody'), []);
    } finally {
      await s.close();
    }
  });

  it('lets both instances append at once: every append lands once, positions in commit order', async () => {
    const s = await linkedStores('herald-linked-');
    try {
      const writes = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? s.api : s.worker).append(`thing-${i}`, [event(i)], 'no_stream'));
      const results = await Promise.all(writes);
      const all = await s.api.readAll();
      assert.equal(all.length, 200);
      assert.deepEqual(new Set(results.map((r) => r.position)).size, 200);
      assert.deepEqual(all.map((e) => e.position), [...all.map((e) => e.position)].sort((a, b) => a - b));
    } finally {
      await s.close();
    }
  });

  it("batches one turn's stream reads into one snapshot, each read getting its own stream, while the other instance writes", async () => {
    const s = await linkedStores('herald-linked-');
    try {
      for (let i = 0; i < 50; i++) await s.api.append(`thing-${i}`, [event(i), event(i + 1000)], 'no_stream');
      const writing = Promise.all(Array.from({ length: 50 }, (_, i) => s.worker.append(`other-${i}`, [event(i)], 'no_stream')));
      const reads = await Promise.all(Array.from({ length: 50 }, (_, i) => s.api.readStream(`thing-${i}`)));
      await writing;
      reads.forEach((events, i) => assert.deepEqual(events.map((e) => e.data), [{ n: i }, { n: i + 1000 }]));
      await s.api.close();
      await assert.rejects(s.api.readStream('thing-1'), /closed/);
    } finally {
      await s.close();
    }
  });
});

describe('a thread link closed while work is still finishing (a shutdown)', () => {
  it('drops the messages that work would send instead of throwing from a closed channel', async () => {
    // Only the channel's name: no file is opened.
    const file = join(tmpdir(), `herald-link-close-${process.pid}.db`);
    let finish: ((value: unknown) => void) | undefined;
    const holder = new ThreadLink(file, { committed: () => undefined, answer: () => new Promise((resolve) => (finish = resolve)) });
    const asker = new ThreadLink(file, { committed: () => undefined, answer: () => undefined });
    const thrown: unknown[] = [];
    const keep = (error: unknown) => void thrown.push(error);
    process.on('uncaughtException', keep);
    process.on('unhandledRejection', keep);
    try {
      const asked = asker.call({ method: 'info', group: 'g' }, 500).catch((error: unknown) => error);
      await eventually(2000, 'the holder got the call', async () => (finish ? true : undefined));
      holder.close();
      finish!({ answered: 'after close' });
      holder.committed(['Thing']);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(thrown, [], 'nothing thrown from the closed channel');
      assert.match(String(await asked), /GroupNotRunningError|not running/, 'the asker times out as when no one holds the group');
      await assert.rejects(holder.call({ method: 'info', group: 'g' }), /event store closed/);
    } finally {
      process.off('uncaughtException', keep);
      process.off('unhandledRejection', keep);
      asker.close();
      holder.close();
    }
  });
});
