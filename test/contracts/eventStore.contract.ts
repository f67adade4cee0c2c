/**
 * The event store port's contract. Every adapter's spec calls `eventStoreContract` with a harness;
 * tests use unique stream and group names, so the suite also runs against a shared real server.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { WrongExpectedRevisionError, type EventStore, type StreamsPage, type PersistentEvent, type PersistentSubscription } from '../../src/ports/eventStore.ts';
import { within } from '../support/wait.ts';
import { persistentContract } from './persistentSubscriptions.contract.ts';

export interface EventStoreHarness {
  /** Opens a store on the harness's data; a second open after close sees the same data. */
  open(): Promise<EventStore>;
  cleanup(): Promise<void>;
}

export function uniquePrefix(): string {
  return `t${randomUUID().replaceAll('-', '').slice(0, 12)}-`;
}

export const ev = (type: string, n = 0) => ({ type, data: { n }, metadata: { by: 'contract' } });

export async function withStore(makeHarness: () => Promise<EventStoreHarness>, body: (store: EventStore, h: EventStoreHarness) => Promise<void>): Promise<void> {
  const harness = await makeHarness();
  const store = await harness.open();
  try {
    await body(store, harness);
  } finally {
    await store.close();
    await harness.cleanup();
  }
}

export async function takeN(sub: PersistentSubscription, n: number, ms = 5000): Promise<PersistentEvent[]> {
  const got: PersistentEvent[] = [];
  while (got.length < n) got.push(...(await within(ms, `${n} persistent events (got ${got.length})`, sub.nextBatch(n - got.length))));
  return got;
}

/** What an adapter offers beyond the required methods, and so what the suite holds it to. */
export interface EventStoreCapabilities {
  /** It implements `readStreamsInOrder`. */
  streamsInOrder?: boolean;
  /** A nack 'release' does not count as a retry (EventStoreDB's server counts it). */
  uncountedRelease?: boolean;
}

export function eventStoreContract(adapter: string, makeHarness: () => Promise<EventStoreHarness>, capabilities: EventStoreCapabilities = {}): void {
  const run = (body: (store: EventStore, h: EventStoreHarness) => Promise<void>) => () => withStore(makeHarness, body);

  describe(`event store contract: ${adapter}`, () => {
    it('appends to a new stream and reads it back in order, revisions from 0', run(async (store) => {
      const stream = `${uniquePrefix()}order`;
      const result = await store.append(stream, [ev('A', 1), ev('B', 2), ev('C', 3)], 'no_stream');
      assert.equal(result.nextExpectedRevision, 2);
      const events = await store.readStream(stream);
      assert.deepEqual(events.map((e) => [e.type, e.revision, e.data.n, e.streamName]), [['A', 0, 1, stream], ['B', 1, 2, stream], ['C', 2, 3, stream]]);
      assert.equal(events[0]?.metadata.by, 'contract');
      assert.ok(events.every((e) => typeof e.id === 'string' && e.id.length > 0 && e.created > 0));
      assert.equal(result.position, events[2]?.position);
    }));

    it('reads nothing from a stream that does not exist', run(async (store) => {
      assert.deepEqual(await store.readStream(`${uniquePrefix()}missing`), []);
    }));

    it('reads a stream from a revision, at most maxCount events', run(async (store) => {
      const stream = `${uniquePrefix()}page`;
      await store.append(stream, [0, 1, 2, 3, 4].map((n) => ev('E', n)), 'no_stream');
      const page = await store.readStream(stream, { fromRevision: 2, maxCount: 2 });
      assert.deepEqual(page.map((e) => e.revision), [2, 3]);
    }));

    it('enforces expected revisions with a typed conflict error', run(async (store) => {
      const stream = `${uniquePrefix()}conflict`;
      await assert.rejects(store.append(stream, [ev('A')], 'stream_exists'), WrongExpectedRevisionError);
      await store.append(stream, [ev('A')], 'no_stream');
      await assert.rejects(store.append(stream, [ev('A')], 'no_stream'), (e: unknown) => e instanceof WrongExpectedRevisionError && e.actual === 0 && e.code === 'wrong_expected_revision');
      await assert.rejects(store.append(stream, [ev('A')], 5), WrongExpectedRevisionError);
      assert.equal((await store.append(stream, [ev('B')], 0)).nextExpectedRevision, 1);
      assert.equal((await store.append(stream, [ev('C')], 'stream_exists')).nextExpectedRevision, 2);
      assert.equal((await store.append(stream, [ev('D')], 'any')).nextExpectedRevision, 3);
      assert.equal((await store.readStream(stream)).length, 4);
    }));

    it('lets exactly one of several racing appends with the same expected revision win', run(async (store) => {
      const stream = `${uniquePrefix()}race`;
      await store.append(stream, [ev('A')], 'no_stream');
      const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => store.append(stream, [ev('B', n)], 0)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.ok(results.filter((r) => r.status === 'rejected').every((r) => r.reason instanceof WrongExpectedRevisionError));
      assert.equal((await store.readStream(stream)).length, 2);
    }));

    it('appends to several streams in order in one call, stopping at the first that finds another revision', run(async (store) => {
      const prefix = uniquePrefix();
      const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => `${prefix}${name}`) as [string, string, string, string];
      const before = await store.headPosition();
      await store.append(b, [ev('B', 0)], 'no_stream');
      const results = await store.appendInOrder([
        { stream: a, events: [ev('A', 1), ev('A', 2)], expected: 'no_stream' },
        { stream: b, events: [ev('B', 1)], expected: 0 },
        { stream: c, events: [ev('C', 1)], expected: 'no_stream' },
      ]);
      assert.deepEqual(results.map((r) => r.nextExpectedRevision), [1, 1, 0]);
      assert.ok(results[0]!.position < results[1]!.position && results[1]!.position < results[2]!.position, 'positions in the order given');
      // The second finds revision 1, not 0: the first is kept, the second and the third are not written.
      await assert.rejects(
        store.appendInOrder([
          { stream: c, events: [ev('C', 2)], expected: 0 },
          { stream: b, events: [ev('B', 2)], expected: 0 },
          { stream: d, events: [ev('D', 1)], expected: 'no_stream' },
        ]),
        (e: unknown) => e instanceof WrongExpectedRevisionError && e.stream === b && e.actual === 1,
      );
      assert.deepEqual((await store.readStream(c)).map((e) => e.data.n), [1, 2]);
      assert.deepEqual((await store.readStream(b)).map((e) => e.data.n), [0, 1]);
      assert.deepEqual(await store.readStream(d), []);
      const all = await store.readAll({ fromPosition: before, filter: { streamPrefixes: [prefix] } });
      assert.deepEqual(all.map((e) => `${e.streamName.slice(prefix.length)}${String(e.data.n)}`), ['b0', 'a1', 'a2', 'b1', 'c1', 'c2']);
    }));

    it('orders $all by strictly increasing positions and filters by stream prefix and event type', run(async (store) => {
      const prefix = uniquePrefix();
      const before = await store.headPosition();
      await store.append(`${prefix}a`, [ev('X', 1), ev('Y', 2)], 'no_stream');
      await store.append(`${prefix}b`, [ev('X', 3)], 'no_stream');
      await store.append(`${uniquePrefix()}other`, [ev('X', 4)], 'no_stream');
      const mine = await store.readAll({ fromPosition: before, filter: { streamPrefixes: [prefix] } });
      assert.deepEqual(mine.map((e) => e.data.n), [1, 2, 3]);
      const positions = mine.map((e) => e.position);
      assert.ok(positions.every((p, i) => i === 0 || p > (positions[i - 1] ?? 0)));
      assert.ok((positions[0] ?? 0) > before);
      const xs = await store.readAll({ fromPosition: before, filter: { streamPrefixes: [prefix], eventTypes: ['X'] } });
      assert.deepEqual(xs.map((e) => e.data.n), [1, 3]);
      const after = await store.readAll({ fromPosition: positions[0], filter: { streamPrefixes: [prefix] }, maxCount: 1 });
      assert.deepEqual(after.map((e) => e.data.n), [2]);
      assert.ok((await store.headPosition()) >= (positions[2] ?? Infinity));
    }));

    it('reads $all after any position it gave (an append\'s, an event\'s, the head), the only positions there are to read from', run(async (store) => {
      const prefix = uniquePrefix();
      const filter = { streamPrefixes: [prefix] };
      const before = await store.headPosition();
      const first = await store.append(`${prefix}a`, [ev('P', 1), ev('P', 2)], 'no_stream');
      const last = await store.append(`${prefix}b`, [ev('P', 3)], 'no_stream');
      const [one] = await store.readAll({ fromPosition: before, filter, maxCount: 1 });
      assert.deepEqual((await store.readAll({ fromPosition: one!.position, filter })).map((e) => e.data.n), [2, 3]);
      assert.deepEqual((await store.readAll({ fromPosition: first.position, filter })).map((e) => e.data.n), [3]);
      assert.deepEqual(await store.readAll({ fromPosition: last.position, filter }), []);
      assert.deepEqual(await store.readAll({ fromPosition: await store.headPosition(), filter }), []);
    }));

    it('filters by a data field: equal to the value, or an array holding it; any of several matches passes', run(async (store) => {
      const prefix = uniquePrefix();
      const before = await store.headPosition();
      const data = (n: number, rest: Record<string, unknown>) => ({ type: 'R', data: { n, ...rest } });
      await store.append(`${prefix}a`, [
        data(1, { routes: ['apns', 'fcm'] }), data(2, { routes: ['sms'] }), data(3, { route: 'fcm' }), data(4, { route: 'sms' }),
        data(5, { routes: [] }), data(6, {}), data(7, { route: { nested: 'fcm' } }), data(8, { routes: 'fcm' }),
      ], 'no_stream');
      const fcm = { streamPrefixes: [prefix], dataMatches: [{ field: 'routes', value: 'fcm' }, { field: 'route', value: 'fcm' }] };
      const read = await store.readAll({ fromPosition: before, filter: fcm });
      assert.deepEqual(read.map((e) => e.data.n), [1, 3, 8]);
      const one = await store.readAll({ fromPosition: before, filter: { streamPrefixes: [prefix], eventTypes: ['R'], dataMatches: [{ field: 'route', value: 'sms' }] } });
      assert.deepEqual(one.map((e) => e.data.n), [4]);
      const sub = store.subscribeToAll({ fromPosition: before, filter: fcm });
      const got: unknown[] = [];
      while (got.length < 3) got.push(...(await within(5000, 'filtered catch-up events', sub.nextBatch(10))).map((e) => e.data.n));
      await store.append(`${prefix}b`, [data(9, { routes: ['email'] }), data(10, { routes: ['fcm'] })], 'no_stream');
      while (got.length < 4) got.push(...(await within(5000, 'the live filtered event', sub.nextBatch(10))).map((e) => e.data.n));
      assert.deepEqual(got, [1, 3, 8, 10]);
      await sub.close();
    }));

    it('catch-up subscription delivers history, then live events, filtered, until closed', run(async (store) => {
      const prefix = uniquePrefix();
      const before = await store.headPosition();
      await store.append(`${prefix}s`, [ev('H', 1), ev('H', 2)], 'no_stream');
      const sub = store.subscribeToAll({ fromPosition: before, filter: { streamPrefixes: [prefix] } });
      const history = await within(2000, 'history', sub.nextBatch(10));
      assert.deepEqual(history.map((e) => e.data.n), [1, 2]);
      const live = sub.nextBatch(10);
      await store.append(`${uniquePrefix()}noise`, [ev('H', 99)], 'no_stream');
      await store.append(`${prefix}s`, [ev('L', 3)], 1);
      assert.deepEqual((await within(2000, 'live event', live)).map((e) => e.data.n), [3]);
      await sub.close();
      assert.deepEqual(await within(2000, 'end after close', sub.nextBatch(10)), []);
    }));

    it('catch-up subscription gives nothing once closed, though events were ready', run(async (store) => {
      const prefix = uniquePrefix();
      const before = await store.headPosition();
      await store.append(`${prefix}s`, [1, 2, 3].map((n) => ev('R', n)), 'no_stream');
      const sub = store.subscribeToAll({ fromPosition: before, filter: { streamPrefixes: [prefix] } });
      assert.deepEqual((await within(2000, 'the first event', sub.nextBatch(1))).map((e) => e.data.n), [1]);
      // Let the others arrive wherever the adapter keeps what it received.
      await new Promise((r) => setTimeout(r, 100));
      await sub.close();
      assert.deepEqual(await within(2000, 'a take after close', sub.nextBatch(10)), []);
    }));

    it('catch-up subscription can be consumed with for await and ends on break', run(async (store) => {
      const prefix = uniquePrefix();
      const before = await store.headPosition();
      await store.append(`${prefix}s`, [1, 2, 3].map((n) => ev('I', n)), 'no_stream');
      const seen: unknown[] = [];
      for await (const e of store.subscribeToAll({ fromPosition: before, filter: { streamPrefixes: [prefix] } })) {
        seen.push(e.data.n);
        if (seen.length === 3) break;
      }
      assert.deepEqual(seen, [1, 2, 3]);
    }));

    it('keeps what was appended across close and reopen', run(async (store, harness) => {
      const stream = `${uniquePrefix()}durable`;
      await store.append(stream, [ev('A', 1)], 'no_stream');
      await store.close();
      const again = await harness.open();
      try {
        assert.deepEqual((await again.readStream(stream)).map((e) => e.data.n), [1]);
      } finally {
        await again.close();
      }
    }));

    if (capabilities.streamsInOrder) streamsInOrderContract(run);
    else {
      it('offers no readStreamsInOrder, so rebuilds read $all in order', run(async (store) => {
        assert.equal('readStreamsInOrder' in store, false);
      }));
    }

    persistentContract(makeHarness, capabilities);
  });
}

type Run = (body: (store: EventStore, h: EventStoreHarness) => Promise<void>) => () => Promise<void>;

function streamsInOrderContract(run: Run): void {
  /** Three streams, their events interleaved in the log: a0 b0 a1 c0 b1 a2, then the head. */
  async function interleaved(store: EventStore) {
    const prefix = uniquePrefix();
    const [a, b, c] = ['a', 'b', 'c'].map((s) => `${prefix}${s}`) as [string, string, string];
    const before = await store.headPosition();
    await store.append(a, [ev('X', 0)], 'no_stream');
    await store.append(b, [ev('Y', 0)], 'no_stream');
    await store.append(a, [ev('Y', 1)], 0);
    await store.append(c, [ev('X', 0)], 'no_stream');
    await store.append(b, [ev('X', 1)], 0);
    await store.append(a, [ev('X', 2)], 1);
    return { prefix, a, b, c, before, head: await store.headPosition() };
  }
  /** The page's events in the test's streams, as `<stream><revision><type>`, in the page's order. */
  const mine = (prefix: string, page: StreamsPage) =>
    page.streams.filter((s) => s.name.startsWith(prefix)).flatMap((s) => {
      assert.ok(s.events.every((e) => e.streamName === s.name), 'a stream holds its own events');
      return s.events.map((e) => `${s.name.slice(prefix.length)}${e.revision}${e.type}`);
    });

  describe('readStreamsInOrder', () => {
    it('gives whole streams in the order of their first event, each in revision order', run(async (store) => {
      const { prefix, before, head } = await interleaved(store);
      const page = await store.readStreamsInOrder!({ afterFirst: before, until: head, maxStreams: 100 });
      assert.deepEqual(mine(prefix, page), ['a0X', 'a1Y', 'a2X', 'b0Y', 'b1X', 'c0X']);
      const [a, b, c] = page.streams.filter((s) => s.name.startsWith(prefix));
      assert.deepEqual([a!.first, b!.first, c!.first], [a!.events[0]!.position, b!.events[0]!.position, c!.events[0]!.position]);
      assert.ok(a!.first < b!.first && b!.first < c!.first);
      assert.equal(page.lastFirst, c!.first);
      assert.equal(a!.events[0]!.data.n, 0);
      assert.equal(a!.events[0]!.metadata.by, 'contract');
    }));

    it('pages by streams: the next page starts after the last stream\'s first event, and an empty page ends it', run(async (store) => {
      const { prefix, before, head } = await interleaved(store);
      const first = await store.readStreamsInOrder!({ afterFirst: before, until: head, maxStreams: 2 });
      assert.deepEqual(mine(prefix, first), ['a0X', 'a1Y', 'a2X', 'b0Y', 'b1X']);
      const second = await store.readStreamsInOrder!({ afterFirst: first.lastFirst, until: head, maxStreams: 2 });
      assert.deepEqual(mine(prefix, second), ['c0X']);
      const last = await store.readStreamsInOrder!({ afterFirst: second.lastFirst, until: head, maxStreams: 2 });
      assert.deepEqual(last, { streams: [], lastFirst: 0 });
    }));

    it('stops at `until`: later events of a stream are left out, and so are streams that begin later', run(async (store) => {
      const { prefix, before } = await interleaved(store);
      const [, b0] = await store.readAll({ fromPosition: before, maxCount: 2 });
      const page = await store.readStreamsInOrder!({ afterFirst: before, until: b0!.position, maxStreams: 100 });
      assert.deepEqual(mine(prefix, page), ['a0X', 'b0Y']);
      assert.equal(page.lastFirst, b0!.position);
    }));

    it('returns only events of the types asked for; a stream with none of them still counts in the page', run(async (store) => {
      const { prefix, before, head } = await interleaved(store);
      const page = await store.readStreamsInOrder!({ afterFirst: before, until: head, maxStreams: 100, eventTypes: ['Y'] });
      assert.deepEqual(mine(prefix, page), ['a1Y', 'b0Y']);
      const [a, , c] = page.streams.filter((s) => s.name.startsWith(prefix));
      const [a0] = await store.readStream(a!.name);
      assert.equal(a!.first, a0!.position, 'a stream\'s first event counts though its type was not asked for');
      assert.deepEqual(c!.events, [], 'stream c, with no Y, is in the page with no events');
      assert.equal(page.lastFirst, c!.first);
    }));
  });
}

