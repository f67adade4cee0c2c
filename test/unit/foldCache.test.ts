/**
 * Loading an aggregate folds only the events it has not folded before (foldCache.ts), and never
 * hands one store's state to another, or a state folded by another aggregate.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { load } from '../../src/commands/handle.ts';
import { sendNotification } from '../../src/commands/sendNotification.ts';
import { loadUser } from '../../src/commands/users.ts';
import { pooledUuidV7 } from '../../src/adapters/ids.ts';
import { FoldCache } from '../../src/commands/foldCache.ts';
import { evolveUser, initialUserState, userStream, type UserState } from '../../src/domain/user.ts';
import type { RecordedEvent } from '../../src/ports/eventStore.ts';

const at = '2026-11-26T10:00:00.000Z';
const device = (token: string) => ({ type: 'DeviceRegistered', data: { userId: 'u1', token, platform: 'ios', at }, metadata: {} });

/** The user aggregate, counting the events it folds. */
function countingUser() {
  const counter = { folded: 0 };
  const aggregate = {
    initial: initialUserState,
    evolve: (state: UserState, event: Parameters<typeof evolveUser>[1]) => {
      counter.folded += 1;
      return evolveUser(state, event);
    },
  };
  return { aggregate, counter };
}

const tokens = (state: UserState) => state.devices.map((d) => d.token);

async function withStores(body: (a: SqliteEventStore, b: SqliteEventStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-fold-'));
  const a = new SqliteEventStore(join(dir, 'a.db'));
  const b = new SqliteEventStore(join(dir, 'b.db'));
  try {
    await body(a, b);
  } finally {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('loading an aggregate', () => {
  it('folds each event once, and only the new ones after an append', async () => {
    await withStores(async (store) => {
      const { aggregate, counter } = countingUser();
      assert.deepEqual(await load(store, userStream('u1'), aggregate), { state: initialUserState(), revision: 'no_stream' });
      await store.append(userStream('u1'), [device('t1'), device('t2')], 'no_stream');
      const first = await load(store, userStream('u1'), aggregate);
      assert.deepEqual([tokens(first.state), first.revision, counter.folded], [['t1', 't2'], 1, 2]);
      const again = await load(store, userStream('u1'), aggregate);
      assert.equal(again.state, first.state, 'an unchanged stream gives the state it gave before');
      assert.equal(counter.folded, 2);
      await store.append(userStream('u1'), [device('t3')], 1);
      const after = await load(store, userStream('u1'), aggregate);
      assert.deepEqual([tokens(after.state), after.revision, counter.folded], [['t1', 't2', 't3'], 2, 3]);
      assert.deepEqual(tokens(first.state), ['t1', 't2'], 'the state handed out earlier is not changed');
    });
  });

  it('never gives one store\'s state for another store\'s stream of the same name and positions', async () => {
    await withStores(async (a, b) => {
      const { aggregate } = countingUser();
      await a.append(userStream('u1'), [device('from-a')], 'no_stream');
      await b.append(userStream('u1'), [device('from-b')], 'no_stream');
      assert.deepEqual(tokens((await load(a, userStream('u1'), aggregate)).state), ['from-a']);
      assert.deepEqual(tokens((await load(b, userStream('u1'), aggregate)).state), ['from-b']);
    });
  });

  it('hands out states that a send leaves as they were: the cached state is still the fold of its events', async () => {
    await withStores(async (store) => {
      const profile = { type: 'UserProfileUpdated', data: { userId: 'u1', email: 'a@example.com', at }, metadata: {} };
      await store.append(userStream('u1'), [profile, device('t1')], 'no_stream');
      const before = await loadUser(store, 'u1');
      const ctx = { store, now: () => new Date(at), ids: pooledUuidV7(), scope: 'app-1' };
      const sent = await sendNotification(ctx, { to: [{ userId: 'u1' }], category: 'orders', content: { push: { title: 'Hi', body: 'there' }, email: { subject: 'Hi', text: 'there' } } });
      assert.deepEqual(sent.notifications.map((n) => n.channel).sort(), ['email', 'push']);
      const after = await loadUser(store, 'u1');
      assert.equal(after, before, 'the send used, and left, the cached state');
      assert.deepEqual(after, (await load(store, userStream('u1'), countingUser().aggregate)).state, 'which is still the fold of the stream');
    });
  });

  it('folds again for another aggregate reading the same stream', async () => {
    await withStores(async (store) => {
      const first = countingUser();
      const second = countingUser();
      await store.append(userStream('u1'), [device('t1')], 'no_stream');
      await load(store, userStream('u1'), first.aggregate);
      await load(store, userStream('u1'), second.aggregate);
      assert.deepEqual([first.counter.folded, second.counter.folded], [1, 1]);
    });
  });
});

describe('the fold cache', () => {
  const recorded = (position: number, revision: number): RecordedEvent => ({ id: String(position), type: 'T', data: {}, metadata: {}, streamName: 's', revision, position, created: 0 });
  const evolve = () => undefined;

  it('holds a state only while the stream still starts with the events it was folded from', () => {
    const cache = new FoldCache();
    cache.set('s', { evolve, count: 2, lastId: '20', state: 'two' });
    assert.equal(cache.get('s', evolve, [recorded(10, 0), recorded(20, 1)])?.state, 'two');
    assert.equal(cache.get('s', evolve, [recorded(10, 0), recorded(20, 1), recorded(30, 2)])?.count, 2, 'a longer stream reuses the prefix');
    assert.equal(cache.get('s', evolve, [recorded(10, 0)]), undefined, 'a shorter stream does not');
    assert.equal(cache.get('s', evolve, [recorded(11, 0), recorded(21, 1)]), undefined, 'nor one written again (other event ids)');
    assert.equal(cache.get('s', () => undefined, [recorded(10, 0), recorded(20, 1)]), undefined, 'nor another aggregate');
  });

  it('keeps the streams of the last two generations', () => {
    const cache = new FoldCache(2);
    for (const s of ['a', 'b', 'c', 'd', 'e']) cache.set(s, { evolve, count: 1, lastId: '1', state: s });
    const held = (s: string) => cache.get(s, evolve, [recorded(1, 0)])?.state;
    assert.deepEqual(['a', 'b', 'c', 'd', 'e'].map(held), [undefined, undefined, 'c', 'd', 'e']);
  });
});
