import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';
import { bearer, createApp, type Harness } from '../http/helpers.ts';
import { verifyCallback } from '../../src/callbacks/signature.ts';
import { CALLBACK_GROUP } from '../../src/processors/callbackProcessor.ts';
import { startReceiver } from './receiver.ts';

type Item = { id: string; type: string; outcome: string; appId: string; notificationId: string; userId: string; channel: string; details: Record<string, unknown> };
type CallbackView = { url: string; events: string[]; secret: string; secretVersion: number };

const TIMEOUT_MS = 1500;

describe('status callbacks: signed, retried on 5xx, not on 4xx, one app never delays another', () => {
  let h: Harness;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    receiver = await startReceiver({
      '/flaky': (_r, nth) => (nth === 1 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }),
      '/refusing': (_r, nth) => ({ status: nth === 1 ? 400 : 200 }),
      '/silent': () => 'never',
      '/across-restart': (_r, nth) => (nth === 1 ? 'never' : { status: 200 }),
    });
    h = await startTestHerald({ HERALD_CALLBACK_TIMEOUT_MS: String(TIMEOUT_MS), HERALD_CALLBACK_MAX_ATTEMPTS: '3', HERALD_CALLBACK_RETRY_BASE_DELAY_MS: '20' });
    const res = await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { email: 'ada@example.com' } });
    assert.equal(res.statusCode, 200, res.body);
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  /** An app with send scope whose callback goes to `path` of the receiver. */
  const appWithCallback = async (path: string, events?: string[]) => {
    const app = await createApp(h, ['send', 'read'], `app${path.replace('/', '-')}`);
    const res = await h.app.inject({ method: 'PUT', url: `/v1/apps/${app.appId}/callback`, headers: auth, payload: { url: receiver.url(path), ...(events ? { events } : {}) } });
    assert.equal(res.statusCode, 200, res.body);
    return { ...app, callback: res.json<CallbackView>() };
  };
  const send = async (token: string) => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: bearer(token), payload: { to: [{ userId: 'u-1' }], channels: ['email'], category: 'news', content: { email: { subject: 'Hi', html: '<p>hello</p>' } } } });
    assert.equal(res.statusCode, 202, res.body);
    return res.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
  };
  const items = (path: string) => receiver.at(path).flatMap((r) => JSON.parse(r.body) as Item[]);

  it('a sent notification produces a callback signed with the secret the app was shown, with the event id and no contact details', async () => {
    const app = await appWithCallback('/ok');
    assert.match(app.callback.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(app.callback.events.includes('sent') && app.callback.events.includes('clicked'), true, 'no events named: all of them');
    const id = await send(app.token);
    const sent = await eventually(8000, 'the sent callback', () => items('/ok').find((i) => i.notificationId === id && i.outcome === 'sent'));
    assert.equal(sent.type, 'notification.sent');
    assert.equal(sent.appId, app.appId);
    assert.equal(sent.userId, 'u-1');
    assert.equal(sent.channel, 'email');
    const [stored] = (await h.herald.events.readStream(`notification-${id}`)).filter((e) => e.type === 'NotificationSent');
    assert.equal(sent.id, stored!.id, 'the callback carries the event id, for receivers to drop duplicates');
    const request = receiver.at('/ok').find((r) => r.body.includes(sent.id))!;
    assert.equal(request.headers['content-type'], 'application/json');
    const signature = String(request.headers['herald-signature']);
    assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(verifyCallback(app.callback.secret, signature, request.body, Math.floor(Date.now() / 1000)), true);
    assert.equal(verifyCallback(app.callback.secret, signature, request.body.replace('u-1', 'u-2'), Math.floor(Date.now() / 1000)), false, 'a changed body fails');
    assert.equal(request.body.includes('ada@example.com'), false, 'never a full address');
    const shown = await h.app.inject({ method: 'GET', url: `/v1/apps/${app.appId}/callback`, headers: auth });
    assert.equal(shown.json<CallbackView>().secret, app.callback.secret, 'GET shows the same derived secret');
    assert.equal(JSON.stringify(await h.herald.events.readStream(`app-${app.appId}`)).includes(app.callback.secret), false, 'the secret is not in the event log');
  });

  it('only the outcomes asked for are called back, and a cleared callback calls nothing back', async () => {
    const app = await appWithCallback('/filtered', ['failed', 'cancelled']);
    const sentOnly = await send(app.token);
    const cleared = await appWithCallback('/cleared');
    assert.equal((await h.app.inject({ method: 'DELETE', url: `/v1/apps/${cleared.appId}/callback`, headers: auth })).statusCode, 204);
    const afterClear = await send(cleared.token);
    for (const id of [sentOnly, afterClear]) await eventually(8000, `${id} sent`, async () => ((await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<{ status: string }>().status === 'sent' ? true : undefined));
    // A third app's notification, sent after both were: once its callback has arrived, the group has handled theirs.
    const marker = await appWithCallback('/marker', ['sent']);
    const markerId = await send(marker.token);
    await eventually(8000, 'the marker callback', () => items('/marker').find((i) => i.notificationId === markerId));
    assert.deepEqual([receiver.at('/filtered').length, receiver.at('/cleared').length], [0, 0]);
  });

  it('a 503 is retried after its Retry-After, with the same event ids and a fresh signature', async () => {
    const app = await appWithCallback('/flaky', ['sent']);
    const id = await send(app.token);
    await eventually(8000, 'the retried callback', () => (receiver.at('/flaky').length >= 2 ? true : undefined));
    const [first, second] = receiver.at('/flaky');
    assert.equal(first!.body, second!.body, 'the same batch again');
    assert.ok(second!.at - first!.at >= 900, `Retry-After: 1 honoured (waited ${second!.at - first!.at} ms; the backoff alone is under 40 ms)`);
    assert.deepEqual((JSON.parse(second!.body) as Item[]).map((i) => [i.notificationId, i.outcome]), [[id, 'sent']]);
    assert.equal(verifyCallback(app.callback.secret, String(second!.headers['herald-signature']), second!.body, Math.floor(Date.now() / 1000)), true);
  });

  it('a 400 is not retried: the callback is given up at once, parked in the callbacks group, listed as a dead letter and replayable', async () => {
    const app = await appWithCallback('/refusing', ['sent']);
    const id = await send(app.token);
    const parked = await eventually(8000, 'the parked callback', async () => {
      const list = await h.herald.events.listParked(CALLBACK_GROUP);
      return list.find((p) => p.event.streamName === `notification-${id}`);
    });
    assert.match(parked.reason, /400/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(receiver.at('/refusing').length, 1, 'one POST only');
    const listed = (await h.app.inject({ method: 'GET', url: '/v1/dead-letters', headers: auth })).json<{ parked: { group: string; route: string; stream: string }[] }>().parked;
    assert.deepEqual(listed.filter((p) => p.group === CALLBACK_GROUP).map((p) => [p.route, p.stream]), [['callbacks', `notification-${id}`]]);
    const redrive = await h.app.inject({ method: 'POST', url: '/v1/dead-letters/redrive', headers: auth, payload: { ids: [], includeParked: true } });
    assert.equal(redrive.json<{ parkedReplayed: number }>().parkedReplayed, 1, redrive.body);
    await eventually(8000, 'the replayed callback', () => (receiver.at('/refusing').length === 2 ? true : undefined));
    const [first, again] = receiver.at('/refusing');
    assert.deepEqual((JSON.parse(again!.body) as Item[]).map((i) => i.id), (JSON.parse(first!.body) as Item[]).map((i) => i.id), 'the same event, by id');
  });

  it('a receiver that never answers does not delay another app\'s callbacks', async () => {
    const silent = await appWithCallback('/silent', ['sent']);
    const prompt = await appWithCallback('/prompt', ['sent']);
    await send(silent.token);
    await eventually(8000, 'the silent receiver to be called', () => (receiver.hanging() > 0 ? true : undefined));
    const started = Date.now();
    const id = await send(prompt.token);
    await eventually(8000, 'the other app\'s callback', () => items('/prompt').find((i) => i.notificationId === id));
    const took = Date.now() - started;
    assert.ok(took < TIMEOUT_MS, `arrived in ${took} ms, before the silent receiver's ${TIMEOUT_MS} ms timeout`);
    assert.ok(receiver.hanging() > 0, 'the silent receiver still holds its request');
  });

  it('a callback still out when Herald stops is sent again, with the same event id, after the restart', async () => {
    const app = await appWithCallback('/across-restart', ['sent']);
    const id = await send(app.token);
    await eventually(8000, 'the first POST', () => (receiver.at('/across-restart').length === 1 ? true : undefined));
    await h.herald.stop();
    assert.equal(receiver.at('/across-restart').length, 1, 'stopped before the POST timed out: nothing sent again yet');
    await h.restart();
    await eventually(8000, 'the POST after the restart', () => (receiver.at('/across-restart').length >= 2 ? true : undefined));
    const [first, again] = receiver.at('/across-restart').map((r) => (JSON.parse(r.body) as Item[]).map((i) => [i.id, i.notificationId]));
    assert.deepEqual(again, first);
    assert.equal(first![0]![1], id);
  });
});
