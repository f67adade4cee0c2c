/**
 * The embedded store's log tail (logTail.ts): the persistent groups read the newest rows from one
 * shared in-memory tail instead of one filtered query each. Whatever a group is handed must be
 * exactly what the SQL read with its filter returns.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { linkedStores } from '../support/linkedStores.ts';
import { LogTail } from '../../src/adapters/eventStore/sqlite/logTail.ts';
import type { EventStore, PersistentSubscriptionSettings, RecordedEvent } from '../../src/ports/eventStore.ts';
import type { EventFilter } from '../../src/ports/eventFilter.ts';

const TYPES = ['Requested', 'Due', 'Expedited', 'Sent'] as const;
const ROUTES = ['push', 'sms', 'email'] as const;

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function numbers(seed: number) {
  let x = seed;
  return (n: number) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    // The high bits: an LCG's low bits repeat with short periods.
    return Math.floor((x / 2 ** 31) * n);
  };
}

async function drain(store: EventStore, group: string, expected: number): Promise<number[]> {
  const sub = store.connectPersistentSubscription(group);
  const seen: number[] = [];
  try {
    while (seen.length < expected) {
      const batch = await Promise.race([sub.nextBatch(7), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${group}: got ${seen.length} of ${expected}`)), 5_000))]);
      for (const e of batch) {
        seen.push(e.event.position);
        await sub.ack(e);
      }
    }
  } finally {
    await sub.close();
  }
  return seen;
}

describe('persistent groups reading through the log tail', () => {
  it('hand each group exactly the events the SQL read with its filter returns, as filters come and go', async () => {
    const s = await linkedStores('herald-logtail-');
    const random = numbers(7);
    try {
      const groups: Record<string, PersistentSubscriptionSettings> = {
        push: { filter: { eventTypes: ['Requested', 'Due'], dataMatches: [{ field: 'routes', value: 'push' }, { field: 'route', value: 'push' }] } },
        sms: { filter: { eventTypes: ['Requested', 'Due'], dataMatches: [{ field: 'routes', value: 'sms' }, { field: 'route', value: 'sms' }] } },
        expedited: { filter: { eventTypes: ['Expedited'] } },
        prefixed: { filter: { eventTypes: ['Requested'], streamPrefixes: ['a-'] } },
      };
      for (const [name, settings] of Object.entries(groups)) await s.worker.ensurePersistentSubscription(name, settings);
      const appendSome = async (count: number) => {
        for (let i = 0; i < count; i++) {
          const type = TYPES[random(TYPES.length)]!;
          const routes = ROUTES.filter(() => random(2) === 0);
          const data = type === 'Due' ? { route: ROUTES[random(3)]! } : { routes };
          await s.api.append(`${random(2) === 0 ? 'a' : 'b'}-${i}-${random(1e6)}`, [{ type, data }], 'no_stream');
        }
      };
      const expect = async (filter: EventFilter | undefined, after = 0) => (await s.worker.readAll({ fromPosition: after, ...(filter ? { filter } : {}) })).map((e) => e.position);

      await appendSome(150);
      for (const [name, settings] of Object.entries(groups)) {
        const want = await expect(settings.filter);
        assert.ok(want.length > 5, `${name} has events to take`);
        assert.deepEqual(await drain(s.worker, name, want.length), want, name);
      }

      // A group that takes every type joins at the end of the log: the tail now holds every type.
      const head = await s.worker.headPosition();
      await s.worker.ensurePersistentSubscription('all', { startFrom: 'end' });
      await appendSome(100);
      assert.deepEqual(await drain(s.worker, 'all', 100), await expect(undefined, head));
      for (const [name, settings] of Object.entries(groups)) {
        const want = await expect(settings.filter, head);
        assert.deepEqual(await drain(s.worker, name, want.length), want, `${name} after the filters changed`);
      }
    } finally {
      await s.close();
    }
  });
});

describe('the log tail itself', () => {
  const log: RecordedEvent[] = Array.from({ length: 100 }, (_, i) => ({
    id: `e${i}`,
    streamName: `s-${i}`,
    revision: 0,
    // Positions with gaps, as rolled-back appends leave them.
    position: i * 2 + 1,
    type: i % 3 === 0 ? 'B' : 'A',
    data: {},
    metadata: {},
    created: 0,
  }));
  const source = () => {
    const calls: number[] = [];
    const rows = (after: number, upTo: number, types: readonly string[] | null, max: number) => {
      calls.push(after);
      return log.filter((e) => e.position > after && e.position <= upTo && (!types || types.includes(e.type))).slice(0, max);
    };
    return { calls, rows };
  };
  const sql = (from: number, max: number, filter: EventFilter, head: number) =>
    log.filter((e) => e.position > from && e.position <= head && (!filter.eventTypes || filter.eventTypes.includes(e.type))).slice(0, max < 0 ? undefined : max);

  it('pages like the SQL read as the head moves on, and reads each row once for every reader', () => {
    const { calls, rows } = source();
    const tail = new LogTail(rows, { limit: 30, extendMax: 16 });
    const a: EventFilter = { eventTypes: ['A'] };
    const b: EventFilter = { eventTypes: ['B'] };
    tail.follow([a, b]);
    let cursorA = 0;
    let cursorB = 0;
    const gotA: number[] = [];
    const gotB: number[] = [];
    // Three new events a round; each reader takes more than its share, so both keep up.
    for (let round = 0, head = 0; round < 80; round++, head = Math.min(199, head + 6)) {
      const pageA = tail.read(cursorA, 3, a, head);
      const pageB = tail.read(cursorB, 5, b, head);
      assert.ok(pageA && pageB, `readers that keep up are answered by the tail (round ${round})`);
      assert.deepEqual(pageA.events, sql(cursorA, 3, a, head));
      assert.deepEqual(pageB.events, sql(cursorB, 5, b, head));
      gotA.push(...pageA.events.map((e) => e.position));
      gotB.push(...pageB.events.map((e) => e.position));
      cursorA = Math.max(cursorA, pageA.scannedTo);
      cursorB = Math.max(cursorB, pageB.scannedTo);
    }
    assert.deepEqual(gotA, sql(0, -1, a, 199).map((e) => e.position));
    assert.deepEqual(gotB, sql(0, -1, b, 199).map((e) => e.position));
    assert.equal(cursorA, 199);
    // Each extension starts where the last one ended: no row was read twice.
    assert.deepEqual(calls, [...new Set(calls)].sort((x, y) => x - y));
    // A filter the followed types do not cover is not the tail's to answer.
    assert.equal(tail.read(cursorA, 3, { eventTypes: ['C'] }, 199), null);
    assert.equal(tail.read(cursorA, 3, {}, 199), null);
  });

  it('holds only the newest rows: a reader behind them or past the head reads SQL, and none waits for the tail', () => {
    const { rows } = source();
    const tail = new LogTail(rows, { limit: 10, extendMax: 8 });
    const all: EventFilter = { eventTypes: ['A', 'B'] };
    const positions = (page: ReturnType<LogTail['read']>) => page?.events.map((e) => e.position);
    tail.follow([all]);
    assert.equal(tail.read(0, 5, all, 9), null, 'the first reader, far behind the head, reads SQL');
    assert.deepEqual(positions(tail.read(1, 5, all, 9)), [3, 5, 7, 9]);
    // The head moves 90 on while nobody reads: the tail starts again from the head.
    assert.equal(tail.read(9, 5, all, 99), null, 'a reader the head left behind reads SQL');
    assert.deepEqual(tail.read(91, 5, all, 99), { events: sql(91, 5, all, 99), scannedTo: 99 });
    assert.equal(tail.read(101, 5, all, 99), null, 'a reader past the head (a group created there) reads SQL');
    // Five more extensions of four events: past twice the limit, so all but the newest 10 go.
    for (let head = 107; head <= 139; head += 8) assert.ok(tail.read(head - 8, 100, all, head));
    assert.equal(tail.read(117, 5, all, 139), null, 'a reader behind what was dropped reads SQL');
    assert.deepEqual(positions(tail.read(119, 3, all, 139)), [121, 123, 125]);
  });
});
