import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PersistentGroup, withDefaults, type Entry, type GroupIo } from '../../src/adapters/eventStore/sqlite/persistentGroup.ts';
import type { RecordedEvent } from '../../src/ports/eventStore.ts';

const event = (position: number): RecordedEvent => ({ position, id: `e${position}`, streamName: `s-${position}`, revision: 0, type: 'T', data: {}, metadata: {}, created: 0 });

/** The group's storage as the embedded store gives it, with a park write that the disk refuses until `space()`. */
function storage(events: RecordedEvent[]) {
  const saved: number[] = [];
  const parked: number[] = [];
  const unparked: number[] = [];
  let full = true;
  const waiting: (() => void)[] = [];
  const io: GroupIo = {
    readPage: (from, max) => {
      const page = events.filter((e) => e.position > from).slice(0, max);
      return { events: page, scannedTo: page.at(-1)?.position ?? from };
    },
    saveCheckpoint: (position) => void saved.push(position),
    park: (entry: Entry) => new Promise((resolve) => {
      const write = () => {
        parked.push(entry.event.position);
        resolve(true);
      };
      if (full) waiting.push(write);
      else write();
    }),
    unpark: (position) => void unparked.push(position),
  };
  const space = () => {
    full = false;
    for (const write of waiting.splice(0)) write();
  };
  return { io, saved, parked, unparked, space };
}

describe('a persistent group parking an event', () => {
  it('holds the checkpoint below it until the parked row is written, so a park the disk refused loses nothing', async () => {
    const s = storage([event(1), event(2), event(3)]);
    const group = new PersistentGroup('g', withDefaults({}), 0, s.io);
    const taken = group.take(1, 3, Date.now());
    assert.deepEqual(taken.map((e) => e.event.position), [1, 2, 3]);
    group.settle(1, 1, 'ack', '');
    group.settle(1, 2, 'park', 'poison');
    group.settle(1, 3, 'ack', '');
    await new Promise((resolve) => setImmediate(resolve));
    // 1 is done; 2 is not parked yet (the write waits for space), so nothing past it may be checkpointed.
    assert.equal(group.checkpoint, 1);
    assert.deepEqual(s.saved, [1]);
    assert.deepEqual(s.parked, []);
    assert.deepEqual(group.take(1, 3, Date.now()), [], 'a park in progress is not handed out again');

    s.space();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(s.parked, [2]);
    assert.equal(group.checkpoint, 3);
    assert.deepEqual(s.saved, [1, 3]);
  });

  it('takes the ack of a replayed event though its park has not finished yet (the row listed, the write not yet settled)', async () => {
    const s = storage([event(1)]);
    const group = new PersistentGroup('g', withDefaults({}), 0, s.io);
    group.take(1, 1, Date.now());
    group.settle(1, 1, 'park', 'poison');
    // Replayed before the park's write settled: the parked event and its replay share a position.
    group.replay([{ event: event(1), retryCount: 0, deadline: 0, replayed: true }]);
    const [replayed] = group.take(1, 1, Date.now());
    assert.equal(replayed?.replayed, true);
    group.settle(1, 1, 'ack', '');
    assert.deepEqual(s.unparked, [1], 'the ack reached the replayed entry: its parked row goes');
    assert.equal(group.counts().inFlight, 0);
    s.space();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(group.checkpoint, 1);
  });

  it('keeps the checkpoint below an event whose park was never written (the store closed first)', async () => {
    const s = storage([event(1), event(2)]);
    s.io.park = async () => false;
    const group = new PersistentGroup('g', withDefaults({}), 0, s.io);
    group.take(1, 2, Date.now());
    group.settle(1, 1, 'park', 'poison');
    group.settle(1, 2, 'ack', '');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(group.checkpoint, 0, 'after a restart the event is delivered again');
  });
});

describe('a persistent group settling by holder', () => {
  it('takes no late answer from a consumer whose message timed out: the event is the next holder\'s to settle', () => {
    const s = storage([event(1)]);
    const group = new PersistentGroup('g', withDefaults({ messageTimeoutMs: 100 }), 0, s.io);
    const t0 = Date.now();
    assert.equal(group.take(1, 1, t0).length, 1);
    group.expire(t0 + 100);
    const [again] = group.take(2, 1, t0 + 100);
    assert.equal(again?.event.position, 1);
    assert.equal(group.settle(1, 1, 'ack', ''), false, 'the first consumer no longer holds it');
    assert.equal(group.settle(1, 1, 'retry', 'late'), false);
    assert.deepEqual(group.take(3, 1, t0 + 100), [], 'a late nack does not hand it to a third consumer while the second works on it');
    assert.equal(group.counts().inFlight, 1);
    assert.equal(group.settle(2, 1, 'ack', ''), true);
    assert.equal(group.counts().inFlight, 0);
    assert.equal(group.checkpoint, 1);
  });
});
