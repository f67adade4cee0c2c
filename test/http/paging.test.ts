import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSandboxProvider, type SandboxOptions } from '../../src/adapters/providers/sandbox/sandboxProvider.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';

type Page = { nextCursor: string | null };

describe('list routes page with a cursor', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  const sms: SandboxOptions = { outboxFile: '', failureRate: 1 };
  const get = async <T>(url: string) => {
    const res = await h.app.inject({ method: 'GET', url, headers: auth });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<T & Page>();
  };
  const send = async (channel: 'email' | 'sms', count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const content = channel === 'email' ? { email: { subject: 's', text: 't' } } : { sms: { body: 'b' } };
      const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: [channel], category: 'c', content } });
      assert.equal(res.statusCode, 202, res.body);
      ids.push(res.json<{ notifications: { id: string }[] }>().notifications[0]!.id);
    }
    return ids;
  };
  /** Every page from the first, following nextCursor; `between` runs after the first page. */
  const pages = async <T>(first: string, items: (page: T) => { id: string }[], between?: () => Promise<unknown>) => {
    const seen: string[] = [];
    let url = first;
    for (let n = 0; n < 50; n++) {
      const page = await get<T>(url);
      seen.push(...items(page).map((i) => i.id));
      if (n === 0) await between?.();
      if (page.nextCursor === null) return seen;
      url = `${first}&cursor=${page.nextCursor}`;
    }
    throw new Error('no last page');
  };

  before(async () => {
    h = await startTestHerald({ HERALD_MAX_ATTEMPTS_SMS: '1' }, (dir) => {
      sms.outboxFile = join(dir, 'sandbox-outbox.jsonl');
      return { providers: { sms: createSandboxProvider('sms', sms) } };
    });
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { phone: '+14155550123', email: 'ada@example.com' } });
  });
  after(async () => {
    await h.close();
  });

  it('a user\'s notifications: every one once, newest first, though new ones arrive between pages', async () => {
    const sent = await send('email', 7);
    type List = { notifications: { id: string }[] };
    const listed = await eventually(5000, 'all seven listed', async () => {
      const all = await get<List>('/v1/users/u-1/notifications?limit=200');
      return all.notifications.length === 7 ? all : undefined;
    });
    assert.equal(listed.nextCursor, null, 'one page holds them all: no cursor');
    const before = listed.notifications.map((n) => n.id);
    assert.deepEqual([...before].sort(), [...sent].sort());
    let arrived: string[] = [];
    const seen = await pages<List>('/v1/users/u-1/notifications?limit=3', (p) => p.notifications, async () => {
      arrived = await send('email', 2);
      await eventually(5000, 'the newer two listed', async () => ((await get<List>('/v1/users/u-1/notifications?limit=200')).notifications.length === 9 ? true : undefined));
    });
    assert.deepEqual(seen, before, 'the listing as it was when paging began, in order, each once');
    assert.equal(seen.some((id) => arrived.includes(id)), false);
    // An offset, by contrast, shifts: its second page now starts with what the first page showed.
    const shifted = await get<List>('/v1/users/u-1/notifications?limit=3&offset=3');
    assert.deepEqual(shifted.notifications.map((n) => n.id)[0], before[1]);
  });

  it('dead letters: every one once, with the total, a filter kept across pages', async () => {
    const failed = await send('sms', 5);
    type List = { deadLetters: { id: string; notificationId: string }[]; total: number };
    await eventually(5000, 'five dead letters', async () => ((await get<List>('/v1/dead-letters?channel=sms')).total === 5 ? true : undefined));
    const first = await get<List>('/v1/dead-letters?channel=sms&limit=2');
    assert.equal(first.total, 5);
    assert.equal(first.deadLetters.length, 2);
    assert.equal(typeof first.nextCursor, 'string');
    const seen = await pages<List>('/v1/dead-letters?channel=sms&limit=2', (p) => p.deadLetters);
    assert.deepEqual([...seen].sort(), failed.map((id) => `${id}:sms`).sort());
    assert.equal(new Set(seen).size, 5);
  });

  it('a user\'s notifications filtered by status, channel and category, paged with the same cursor', async () => {
    type List = { notifications: { id: string; status: string; channel: string; category: string }[] };
    await eventually(5000, 'every notification settled', async () => {
      const all = await get<List>('/v1/users/u-1/notifications?limit=200');
      return all.notifications.every((n) => n.status === 'sent' || n.status === 'failed') ? all : undefined;
    });
    const all = (await get<List>('/v1/users/u-1/notifications?limit=200')).notifications;
    const failed = await pages<List>('/v1/users/u-1/notifications?status=failed&limit=2', (p) => p.notifications);
    assert.deepEqual(failed, all.filter((n) => n.status === 'failed').map((n) => n.id));
    assert.equal(failed.length, 5, 'the five SMS of the dead-letter test');
    const emails = (await get<List>('/v1/users/u-1/notifications?channel=email&category=c&limit=200')).notifications;
    assert.deepEqual(emails.map((n) => n.id), all.filter((n) => n.channel === 'email').map((n) => n.id));
    assert.deepEqual((await get<List>('/v1/users/u-1/notifications?category=nothing-here')).notifications, []);
    const bad = await h.app.inject({ method: 'GET', url: '/v1/users/u-1/notifications?status=lost', headers: auth });
    assert.equal(bad.statusCode, 422);
  });

  it('a user\'s notifications between two times (from, to: inclusive), newest first, paged', async () => {
    type List = { notifications: { id: string; requestedAt: string }[] };
    const all = (await get<List>('/v1/users/u-1/notifications?limit=200')).notifications;
    assert.ok(all.length >= 6, `${all.length} notifications`);
    const times = [...new Set(all.map((n) => n.requestedAt))].sort();
    assert.ok(times.length >= 4, `distinct request times: ${times.length}`);
    const [from, to] = [times[1]!, times.at(-2)!];
    const expected = all.filter((n) => n.requestedAt >= from && n.requestedAt <= to).map((n) => n.id);
    assert.ok(expected.length > 0 && expected.length < all.length);
    const q = (query: string) => `/v1/users/u-1/notifications?${query}`;
    assert.deepEqual(await pages<List>(q(`from=${from}&to=${to}&limit=2`), (p) => p.notifications), expected);
    assert.deepEqual((await get<List>(q(`from=${from}&limit=200`))).notifications.map((n) => n.id), all.filter((n) => n.requestedAt >= from).map((n) => n.id));
    assert.deepEqual((await get<List>(q(`to=${to}&limit=200`))).notifications.map((n) => n.id), all.filter((n) => n.requestedAt <= to).map((n) => n.id));
    const backwards = await h.app.inject({ method: 'GET', url: q(`from=${to}&to=${from}`), headers: auth });
    assert.equal(backwards.statusCode, 422, backwards.body);
    assert.ok(backwards.body.includes('from is after to'), backwards.body);
    assert.equal((await h.app.inject({ method: 'GET', url: q('from=yesterday'), headers: auth })).statusCode, 422);
  });

  it('refuses a cursor it did not give out, and a cursor with an offset', async () => {
    for (const [url, mentions] of [
      ['/v1/users/u-1/notifications?cursor=garbage', 'querystring/cursor: not a cursor from this list'],
      [`/v1/dead-letters?cursor=${Buffer.from('{"v":1}').toString('base64url')}`, 'querystring/cursor: not a cursor from this list'],
      [`/v1/users/u-1/notifications?offset=3&cursor=${Buffer.from('{"v":"2026-11-23T10:00:00.000Z","id":"x"}').toString('base64url')}`, 'querystring/offset: use cursor or offset, not both'],
    ] as const) {
      const res = await h.app.inject({ method: 'GET', url, headers: auth });
      assert.equal(res.statusCode, 422, res.body);
      assert.equal(res.json<{ code: string }>().code, 'validation_failed');
      assert.ok(res.body.includes(mentions), res.body);
    }
  });
});
