import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pooledUuidV7 } from '../../src/adapters/ids.ts';
import { buildApp } from '../../src/http/app.ts';
import { ApiKeys } from '../../src/http/apiKeys.ts';
import { createLogger } from '../../src/logger.ts';
import { EventStoreUnavailableError, WrongExpectedRevisionError, type EventData, type EventStore } from '../../src/ports/eventStore.ts';
import { API_KEY, auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';
import { bearer, createApp, type Harness } from './helpers.ts';

type Item = { index: number; status: number; notifications?: { id: string; userId: string; channel: string; status: string }[]; error?: { code: string; status: number; detail?: string; errors?: { path: string }[] } };
type BatchAnswer = { accepted: number; rejected: number; results: Item[] };

const email = (userId: string, subject = 'Hi') => ({ to: [{ userId }], category: 'orders', content: { email: { subject, text: 'x' } } });
const sms = (userId: string) => ({ to: [{ userId }], category: 'orders', content: { sms: { body: 'Order shipped' } } });

/** The API over the harness's stores, with its event store swapped for one of the test's making. */
async function appOver(h: Harness, events: EventStore) {
  const apiKeys = new ApiKeys(h.herald.events, () => new Date());
  await apiKeys.init(API_KEY);
  return buildApp({ events, readModels: h.herald.readModels, apiKeys, now: () => new Date(), ids: pooledUuidV7(), logger: createLogger('silent'), limits: { maxRecipients: 10, bodyLimitBytes: 65536 } });
}

/** `events`, refusing as an unavailable store the appends of u-2's notifications, and every append while `down()`. */
function refusingU2(events: EventStore, down: () => boolean = () => false): EventStore {
  const refused = (appended: readonly EventData[]) => down() || appended.some((e) => (e.data as { userId?: string }).userId === 'u-2');
  const unavailable = () => Promise.reject(new EventStoreUnavailableError('events.db: fdatasync of the WAL failed: EIO'));
  return Object.assign(Object.create(events) as EventStore, {
    append: (...args: Parameters<EventStore['append']>) => (refused(args[1]) ? unavailable() : events.append(...args)),
    appendInOrder: (appends: Parameters<EventStore['appendInOrder']>[0]) => (appends.some((a) => refused(a.events)) ? unavailable() : events.appendInOrder(appends)),
  });
}

describe('POST /v1/notifications/batch', () => {
  let h: Harness;
  before(async () => {
    h = await startTestHerald({ HERALD_MAX_RECIPIENTS: '4' });
    for (const [userId, body] of [['u-1', { email: 'ada@example.com' }], ['u-2', { phone: '+14155550123' }], ['u-3', { email: 'bob@example.com', phone: '+14155550124' }]] as const) {
      assert.equal((await h.app.inject({ method: 'PUT', url: `/v1/users/${userId}`, headers: auth, payload: body })).statusCode, 200);
    }
  });
  after(async () => {
    await h.close();
  });
  const batch = (requests: unknown[], headers: Record<string, string> = {}) => h.app.inject({ method: 'POST', url: '/v1/notifications/batch', headers: { ...auth, ...headers }, payload: { requests } });

  it('accepts every item with 202, one result per item in order, and each notification is sent', async () => {
    const res = await batch([email('u-1'), sms('u-2'), { ...email('u-3'), channels: ['email'] }]);
    assert.equal(res.statusCode, 202, res.body);
    const body = res.json<BatchAnswer>();
    assert.equal(body.accepted, 3);
    assert.equal(body.rejected, 0);
    assert.deepEqual(body.results.map((r) => [r.index, r.status, r.notifications?.map((n) => `${n.userId}/${n.channel}`)]), [
      [0, 202, ['u-1/email']],
      [1, 202, ['u-2/sms']],
      [2, 202, ['u-3/email']],
    ]);
    const ids = body.results.flatMap((r) => r.notifications!.map((n) => n.id));
    await eventually(5000, 'all three sent', async () => {
      const statuses = await Promise.all(ids.map(async (id) => (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<{ status: string }>().status));
      return statuses.every((s) => s === 'sent') ? true : undefined;
    });
  });

  it('answers 207 when some items fail, with each failure as a problem pointing into the body', async () => {
    const res = await batch([email('u-1'), { to: [{ userId: 'u-2' }], category: 'orders', template: { id: 'no-such-template', params: {} } }, sms('nobody')]);
    assert.equal(res.statusCode, 207, res.body);
    const body = res.json<BatchAnswer>();
    assert.deepEqual([body.accepted, body.rejected], [2, 1]);
    const [first, second, third] = body.results;
    assert.equal(first!.status, 202);
    assert.equal(second!.status, 422);
    assert.equal(second!.error!.code, 'template_not_found');
    assert.equal(second!.error!.errors![0]!.path, '/requests/1/template/id');
    assert.match(second!.error!.detail!, /POST \/v1\/templates\/no-such-template/);
    // An unknown user is skipped, as in a single send: the item itself is accepted.
    assert.equal(third!.status, 202);
    assert.deepEqual(third!.notifications, []);
  });

  it('the same batch with the same Idempotency-Key sends nothing twice; an item key reused for other content fails alone', async () => {
    const requests = [email('u-1', 'Receipt'), sms('u-2')];
    const first = await batch(requests, { 'idempotency-key': 'batch-7' });
    const again = await batch(requests, { 'idempotency-key': 'batch-7' });
    assert.equal(again.statusCode, 202, again.body);
    assert.deepEqual(again.json<BatchAnswer>().results, first.json<BatchAnswer>().results, 'same ids for the same items');

    const keyed = await batch([{ ...email('u-1', 'One'), idempotencyKey: 'k-1' }]);
    assert.equal(keyed.statusCode, 202, keyed.body);
    const reused = await batch([{ ...email('u-1', 'Another'), idempotencyKey: 'k-1' }, email('u-3')]);
    assert.equal(reused.statusCode, 207, reused.body);
    const [clash, fine] = reused.json<BatchAnswer>().results;
    assert.equal(clash!.error!.code, 'idempotency_key_reused');
    assert.equal(fine!.status, 202);
  });

  it('applies a category\'s rate limit across the items of one batch as across separate sends', async () => {
    assert.equal((await h.app.inject({ method: 'PUT', url: '/v1/categories/digest', headers: auth, payload: { rateLimit: { max: 2, windowSeconds: 3600, window: 'fixed', overLimit: 'suppress' } } })).statusCode, 200);
    const digest = (subject: string) => ({ ...email('u-3', subject), category: 'digest' });
    const res = await batch([digest('a'), digest('b'), digest('c')]);
    assert.equal(res.statusCode, 202, res.body);
    const statuses = res.json<BatchAnswer>().results.map((r) => r.notifications![0]!.status).sort();
    assert.deepEqual(statuses, ['requested', 'requested', 'suppressed'], 'two slots in the window, the third item over the limit');
  });

  it('rejects a malformed batch whole with 422, naming the item and field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ requests: [] }, /requests/],
      [{ requests: [email('u-1'), { to: [{ userId: 'u-2' }], category: 'orders', channels: ['push'], content: { sms: { body: 'x' } } }] }, /requests\/1\/content\/push/],
      [{ requests: [{ ...email('u-1'), to: [1, 2, 3].map((i) => ({ userId: `u-${i}` })) }, { ...sms('u-2'), to: [1, 2].map((i) => ({ userId: `u-${i}` })) }] }, /at most 4 recipients per request, counted over every item of a batch \(this one has 5\)/],
      [{ requests: [email('u-1')], extra: true }, /extra/],
    ];
    for (const [payload, mentions] of cases) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/notifications/batch', headers: auth, payload: payload as object });
      assert.equal(res.statusCode, 422, res.body);
      const body = res.json<{ code: string; detail: string }>();
      assert.equal(body.code, 'validation_failed');
      assert.match(body.detail, mentions);
    }
  });

  it('needs the send scope', async () => {
    const reader = await createApp(h, ['read']);
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications/batch', headers: bearer(reader.token), payload: { requests: [email('u-1')] } });
    assert.equal(res.statusCode, 403, res.body);
  });

  it('counts every accepted notification of a batch against the daily quota', async () => {
    const limited = await startTestHerald({ HERALD_DAILY_SEND_QUOTA: '3' });
    try {
      await limited.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { email: 'ada@example.com' } });
      const res = await limited.app.inject({ method: 'POST', url: '/v1/notifications/batch', headers: auth, payload: { requests: [email('u-1', 'a'), email('u-1', 'b'), email('u-1', 'c')] } });
      assert.equal(res.statusCode, 202, res.body);
      const over = await limited.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: email('u-1', 'd') });
      assert.equal(over.statusCode, 429, over.body);
      const batchOver = await limited.app.inject({ method: 'POST', url: '/v1/notifications/batch', headers: auth, payload: { requests: [email('u-1', 'e')] } });
      assert.equal(batchOver.statusCode, 429, batchOver.body);
    } finally {
      await limited.close();
    }
  });

  it('reports items the store could not record as 503 results, and a batch with none recorded as a 503', async () => {
    // The store refuses the appends of u-2's notifications only (and everything once `down`).
    let down = false;
    const app = await appOver(h, refusingU2(h.herald.events, () => down));
    try {
      const res = await app.inject({ method: 'POST', url: '/v1/notifications/batch', headers: auth, payload: { requests: [email('u-1'), sms('u-2')] } });
      assert.equal(res.statusCode, 207, res.body);
      const [ok, refused] = res.json<BatchAnswer>().results;
      assert.equal(ok!.status, 202);
      assert.equal(refused!.status, 503);
      assert.equal(refused!.error!.code, 'event_store_unavailable');
      assert.doesNotMatch(refused!.error!.detail!, /fdatasync|events\.db/, 'internals stay in the log');

      down = true;
      const none = await app.inject({ method: 'POST', url: '/v1/notifications/batch', headers: auth, payload: { requests: [email('u-1'), sms('u-2')] } });
      assert.equal(none.statusCode, 503, none.body);
      assert.equal(none.headers['retry-after'], '1');
      assert.equal(none.json<{ code: string }>().code, 'event_store_unavailable');
    } finally {
      await app.close();
    }
  });

  it('a send to several users that fails for some after others were recorded lists those in accepted, single or batched', async () => {
    const { events } = h.herald;
    // The store refuses the appends of u-2's notifications only.
    const app = await appOver(h, refusingU2(events));
    type Partly = { code: string; detail: string; accepted: { id: string; userId: string; channel: string; status: string }[] };
    const both = { to: [{ userId: 'u-1' }, { userId: 'u-2' }], category: 'orders', content: { email: { subject: 's', text: 'x' }, sms: { body: 'x' } } };
    try {
      const single = await app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: both });
      assert.equal(single.statusCode, 503, single.body);
      assert.equal(single.headers['retry-after'], '1');
      const problem = single.json<Partly>();
      assert.equal(problem.code, 'event_store_unavailable');
      assert.deepEqual(problem.accepted.map((n) => `${n.userId}/${n.channel}/${n.status}`), ['u-1/email/requested']);
      assert.match(problem.detail, /1 notification for 1 of the users was recorded before it, listed in accepted with its status \(requested or scheduled ones will be delivered\)\. Send the same request again with the same idempotency key/);
      assert.equal((await events.readStream(`notification-${problem.accepted[0]!.id}`))[0]?.type, 'NotificationRequested', 'what accepted lists is durable');

      const res = await app.inject({ method: 'POST', url: '/v1/notifications/batch', headers: auth, payload: { requests: [both] } });
      assert.equal(res.statusCode, 207, res.body);
      assert.equal(res.headers['retry-after'], '1', 'an item worth sending again soon: when, as a single send says');
      const [item] = res.json<BatchAnswer>().results;
      assert.equal(item!.status, 503);
      assert.deepEqual((item!.error as unknown as Partly).accepted.map((n) => n.userId), ['u-1']);
    } finally {
      await app.close();
    }
  });

  it('reports an item given up on a contended stream as 409 concurrent_update, the problem a single send gets for it', async () => {
    const { events } = h.herald;
    assert.equal((await h.app.inject({ method: 'PUT', url: '/v1/categories/contended', headers: auth, payload: { rateLimit: { max: 5, windowSeconds: 3600 } } })).statusCode, 200);
    // Another process moves u-2's rate window before every append of ours, through every retry.
    const moved = (appends: Parameters<EventStore['appendInOrder']>[0]) => appends.find((a) => a.stream.startsWith('ratewindow-u-2'));
    const contended = Object.assign(Object.create(events) as EventStore, {
      appendInOrder: (appends: Parameters<EventStore['appendInOrder']>[0]) => {
        const take = moved(appends);
        return take ? Promise.reject(new WrongExpectedRevisionError(take.stream, take.expected, 99)) : events.appendInOrder(appends);
      },
    });
    const app = await appOver(h, contended);
    try {
      const toU2 = { ...sms('u-2'), category: 'contended' };
      const single = await app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: toU2 });
      assert.equal(single.statusCode, 409, single.body);
      const res = await app.inject({ method: 'POST', url: '/v1/notifications/batch', headers: auth, payload: { requests: [{ ...email('u-1'), category: 'contended' }, toU2] } });
      assert.equal(res.statusCode, 207, res.body);
      const [ok, gaveUp] = res.json<BatchAnswer>().results;
      assert.equal(ok!.status, 202);
      const { instance: _, ...singleProblem } = single.json<Record<string, unknown>>();
      assert.deepEqual(gaveUp!.error, singleProblem);
      assert.equal(gaveUp!.status, 409);
    } finally {
      await app.close();
    }
  });
});
