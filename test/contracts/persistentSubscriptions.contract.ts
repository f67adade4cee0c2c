/** Persistent subscription groups (competing consumers): part of the event store contract. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { EventNotHeldError, type EventStore, type PersistentSubscriptionSettings } from '../../src/ports/eventStore.ts';
import { nothingWithin, within, eventually } from '../support/wait.ts';
import { ev, takeN, uniquePrefix, withStore, type EventStoreCapabilities, type EventStoreHarness } from './eventStore.contract.ts';

async function group(store: EventStore, settings: PersistentSubscriptionSettings = {}) {
  const prefix = uniquePrefix();
  const name = `${prefix}group`;
  await store.ensurePersistentSubscription(name, { filter: { streamPrefixes: [prefix] }, ...settings });
  const append = (n: number, type = 'P') => store.append(`${prefix}${n}`, [ev(type, n)], 'no_stream');
  return { name, prefix, append };
}

export function persistentContract(makeHarness: () => Promise<EventStoreHarness>, capabilities: EventStoreCapabilities = {}): void {
  const run = (body: (store: EventStore, h: EventStoreHarness) => Promise<void>) => () => withStore(makeHarness, body);

  it('persistent: competing consumers each get a share and every event exactly once when acked', run(async (store) => {
    const g = await group(store);
    for (let n = 0; n < 20; n++) await g.append(n);
    const consumers = [store.connectPersistentSubscription(g.name), store.connectPersistentSubscription(g.name)];
    const seen: number[] = [];
    const byConsumer = [0, 0];
    // Each consumer works one event at a time and is slow to ack, as a processor calling a provider is.
    await within(10_000, 'all deliveries', Promise.all(consumers.map(async (sub, i) => {
      while (seen.length < 20) {
        const batch = await nothingWithin(500, sub.nextBatch(1));
        for (const e of batch ?? []) {
          seen.push(e.event.data.n as number);
          byConsumer[i]! += 1;
          await new Promise((r) => setTimeout(r, 5));
          await sub.ack(e);
        }
      }
    })));
    assert.deepEqual([...seen].sort((x, y) => x - y), [...Array(20).keys()]);
    assert.ok(byConsumer[0]! > 0 && byConsumer[1]! > 0, `both consumers got work: ${byConsumer.join('/')}`);
    for (const sub of consumers) await sub.close();
  }));

  it('persistent: filters by event type', run(async (store) => {
    const prefix = uniquePrefix();
    const name = `${prefix}typed`;
    await store.ensurePersistentSubscription(name, { filter: { streamPrefixes: [prefix], eventTypes: ['Wanted'] } });
    await store.append(`${prefix}1`, [ev('Unwanted', 1), ev('Wanted', 2)], 'no_stream');
    const sub = store.connectPersistentSubscription(name);
    const [only] = await takeN(sub, 1);
    assert.equal(only?.event.type, 'Wanted');
    await sub.ack(only);
    await sub.close();
  }));

  it('persistent: filters by a data field, and the events it keeps out never count as in flight', run(async (store) => {
    const prefix = uniquePrefix();
    const name = `${prefix}routed`;
    await store.ensurePersistentSubscription(name, { filter: { streamPrefixes: [prefix], dataMatches: [{ field: 'routes', value: 'sms' }, { field: 'route', value: 'sms' }] }, maxInFlight: 2 });
    const other = Array.from({ length: 10 }, (_, n) => ({ type: 'R', data: { n, routes: ['email'] } }));
    await store.append(`${prefix}1`, [...other, { type: 'R', data: { n: 10, routes: ['email', 'sms'] } }, { type: 'D', data: { n: 11, route: 'sms' } }], 'no_stream');
    const sub = store.connectPersistentSubscription(name);
    const got = await takeN(sub, 2);
    assert.deepEqual(got.map((e) => e.event.data.n), [10, 11]);
    for (const e of got) await sub.ack(e);
    await eventually(5000, 'the checkpoint past every event, wanted or not', async () => {
      const info = await store.persistentSubscriptionInfo(name);
      return info.checkpoint >= got[1]!.event.position && info.inFlight === 0 ? true : undefined;
    });
    await sub.close();
  }));

  it('persistent: nack retry redelivers with a higher retry count; skip drops it', run(async (store) => {
    const g = await group(store);
    await g.append(1);
    const sub = store.connectPersistentSubscription(g.name);
    const [first] = await takeN(sub, 1);
    assert.equal(first?.retryCount, 0);
    await sub.nack('retry', 'try again', first);
    const [second] = await takeN(sub, 1);
    assert.equal(second?.event.id, first?.event.id);
    assert.equal(second?.retryCount, 1);
    await sub.nack('skip', 'not for us', second);
    assert.equal(await nothingWithin(300, sub.nextBatch(1)), undefined);
    await sub.close();
  }));

  it('persistent: parks after maxRetryCount, lists parked events and replays them', run(async (store) => {
    const g = await group(store, { maxRetryCount: 2 });
    // Each event's own position: that of $all, not that of its parked link (a worker tells events apart by it).
    const positions = [(await g.append(7)).position, (await g.append(8)).position];
    const sub = store.connectPersistentSubscription(g.name);
    let deliveriesOf7 = 0;
    let parked8 = false;
    while (deliveriesOf7 < 3 || !parked8) {
      const [e] = await takeN(sub, 1);
      if (e?.event.data.n === 8) { await sub.nack('park', 'poison', e); parked8 = true; }
      else { deliveriesOf7 += 1; await sub.nack('retry', 'still failing', e!); }
    }
    assert.equal(deliveriesOf7, 3, 'first delivery plus maxRetryCount retries, then parked');
    const parked = await eventually(3000, 'two parked events', async () => {
      const list = await store.listParked(g.name);
      return list.length === 2 ? list : undefined;
    });
    assert.deepEqual(parked.map((p) => p.event.data.n).sort(), [7, 8]);
    assert.deepEqual(parked.map((p) => p.event.position).sort((a, b) => a - b), positions);
    assert.ok(parked.some((p) => p.reason.includes('poison')));
    assert.equal((await store.persistentSubscriptionInfo(g.name)).parked, 2);
    assert.equal(await store.replayParked(g.name), 2);
    const replayed = await takeN(sub, 2);
    assert.deepEqual(replayed.map((p) => p.event.data.n).sort(), [7, 8]);
    assert.deepEqual(replayed.map((p) => p.event.position).sort((a, b) => a - b), positions);
    for (const e of replayed) await sub.ack(e);
    await eventually(3000, 'parked list emptied', async () => ((await store.listParked(g.name)).length === 0 ? true : undefined));
    await sub.close();
  }));

  it(capabilities.uncountedRelease
    ? 'persistent: a released event is delivered again, its retry count unchanged, and never parked for being released'
    : 'persistent: a released event is delivered again, counted as a retry (the server counts every nack), and parked past maxRetryCount', run(async (store) => {
    const g = await group(store, { maxRetryCount: 2 });
    await g.append(1);
    const sub = store.connectPersistentSubscription(g.name);
    const counts: number[] = [];
    for (let n = 0; n < 3; n++) {
      const [e] = await takeN(sub, 1);
      counts.push(e!.retryCount);
      await sub.nack('release', 'stopping before working on it', e!);
    }
    if (capabilities.uncountedRelease) {
      assert.deepEqual(counts, [0, 0, 0]);
      const [again] = await takeN(sub, 1);
      assert.equal(again?.retryCount, 0, 'a fourth delivery, past maxRetryCount releases');
      await sub.ack(again);
      assert.equal((await store.persistentSubscriptionInfo(g.name)).parked, 0);
    } else {
      assert.deepEqual(counts, [0, 1, 2]);
      const parked = await eventually(3000, 'the released event parked', async () => {
        const list = await store.listParked(g.name);
        return list.length === 1 ? list : undefined;
      });
      assert.equal(parked[0]?.event.data.n, 1);
    }
    await sub.close();
  }));

  it('lists no parked events for a group never created', run(async (store) => {
    assert.deepEqual(await store.listParked(`never-created-${Date.now()}`), []);
  }));

  it('persistent: an event not acked within the message timeout is delivered again', run(async (store) => {
    const g = await group(store, { messageTimeoutMs: 100 });
    await g.append(1);
    const sub = store.connectPersistentSubscription(g.name);
    const [first] = await takeN(sub, 1);
    const [again] = await takeN(sub, 1, 3000);
    assert.equal(again?.event.id, first?.event.id);
    assert.ok((again?.retryCount ?? 0) >= 1);
    await sub.ack(again!);
    await sub.close();
  }));

  it('persistent: only the consumer holding an event settles it: an ack of an event another consumer took, or a second ack, rejects with EventNotHeldError', run(async (store) => {
    const g = await group(store);
    await g.append(1);
    const b = store.connectPersistentSubscription(g.name);
    const [held] = await takeN(b, 1);
    const a = store.connectPersistentSubscription(g.name);
    await assert.rejects(a.ack(held!), (e: unknown) => e instanceof EventNotHeldError && e.code === 'event_not_held');
    await assert.rejects(a.nack('retry', 'not mine', held!), EventNotHeldError);
    const pending = a.nextBatch(1);
    assert.equal(await nothingWithin(300, pending), undefined, 'the event stays with the consumer that holds it');
    await b.ack(held!);
    await assert.rejects(b.ack(held!), EventNotHeldError, 'settled already');
    await assert.rejects(b.nack('retry', 'again', held!), EventNotHeldError);
    await b.close();
    await g.append(2);
    const [next] = await within(5000, 'the next event', pending);
    assert.equal(next?.event.data.n, 2, 'the acked event is not handed out again, though its holder has gone');
    await a.ack(next);
    await a.close();
  }));

  it('persistent: never has more than maxInFlight unacknowledged events out', run(async (store) => {
    const g = await group(store, { maxInFlight: 2 });
    for (let n = 0; n < 5; n++) await g.append(n);
    const sub = store.connectPersistentSubscription(g.name);
    const first = await takeN(sub, 2);
    const pending = sub.nextBatch(5);
    assert.equal(await nothingWithin(300, pending), undefined, 'nothing beyond the in-flight bound');
    assert.equal((await store.persistentSubscriptionInfo(g.name)).inFlight, 2);
    await sub.ack(first[0]!);
    const more = await within(3000, 'one more after an ack', pending);
    assert.equal(more.length, 1);
    await sub.close();
  }));

  it('persistent: the checkpoint is durable; a reopened store delivers only what was not acked', run(async (store, harness) => {
    const g = await group(store);
    for (let n = 0; n < 6; n++) await g.append(n);
    const sub = store.connectPersistentSubscription(g.name);
    const firstThree = await takeN(sub, 3);
    for (const e of firstThree) await sub.ack(e);
    await eventually(3000, 'checkpoint to pass the acked events', async () => {
      const info = await store.persistentSubscriptionInfo(g.name);
      return info.checkpoint >= firstThree[2]!.event.position ? true : undefined;
    });
    await sub.close();
    await store.close();
    const again = await harness.open();
    try {
      await again.ensurePersistentSubscription(g.name, { filter: { streamPrefixes: [g.prefix] } });
      const sub2 = again.connectPersistentSubscription(g.name);
      const rest = await takeN(sub2, 3);
      assert.deepEqual(rest.map((e) => e.event.data.n).sort(), [3, 4, 5]);
      assert.equal(await nothingWithin(300, sub2.nextBatch(1)), undefined);
      await sub2.close();
    } finally {
      await again.close();
    }
  }));

  it('persistent: a consumer that stops taking gets nothing more, its acks still count, and close hands the rest to the others', run(async (store) => {
    const g = await group(store);
    await g.append(0);
    await g.append(1);
    const a = store.connectPersistentSubscription(g.name);
    const [held] = await takeN(a, 1);
    await a.stopTaking();
    assert.deepEqual(await within(2000, 'a take after stopTaking', a.nextBatch(5)), [], 'nothing more, not even what it had received');
    await a.ack(held!);
    await a.close();
    const b = store.connectPersistentSubscription(g.name);
    const [other] = await takeN(b, 1);
    assert.notEqual(other?.event.id, held?.event.id);
    await b.ack(other!);
    const pending = b.nextBatch(1);
    assert.equal(await nothingWithin(300, pending), undefined, 'the event acked after stopTaking is not handed out again');
    await b.stopTaking();
    assert.deepEqual(await within(2000, 'a waiting take to end on stopTaking', pending), []);
    await b.close();
  }));

  it('persistent: a closed consumer takes nothing, though events were ready for it, and its late acks do not count', run(async (store) => {
    const g = await group(store);
    for (let n = 0; n < 3; n++) await g.append(n);
    const a = store.connectPersistentSubscription(g.name);
    const [held] = await takeN(a, 1);
    await a.close();
    assert.deepEqual(await within(2000, 'a take after close', a.nextBatch(5)), []);
    await assert.rejects(a.ack(held!), (e: unknown) => e instanceof EventNotHeldError && e.code === 'event_not_held');
    await assert.rejects(a.nack('park', 'too late', held!), EventNotHeldError);
    const b = store.connectPersistentSubscription(g.name);
    const all = await takeN(b, 3);
    assert.deepEqual(all.map((e) => e.event.data.n).sort(), [0, 1, 2], 'the one acked after close among them');
    for (const e of all) await b.ack(e);
    await b.close();
  }));

  it('persistent: a closed consumer hands its unacknowledged events to the others', run(async (store) => {
    const g = await group(store);
    await g.append(1);
    const a = store.connectPersistentSubscription(g.name);
    const [held] = await takeN(a, 1);
    const b = store.connectPersistentSubscription(g.name);
    await a.close();
    const [moved] = await takeN(b, 1, 5000);
    assert.equal(moved?.event.id, held?.event.id);
    await b.ack(moved!);
    await b.close();
  }));
}
