import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';

type Sent = { notifications: { id: string; userId: string; channel: string; status: string }[]; skipped: unknown[] };
type Doc = { id: string; status: string; opened: boolean; events: { type: string; route?: string }[] };

describe('a notification\'s whole life on the embedded default', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  let sent: Sent;
  const send = {
    to: [{ userId: 'u-1' }],
    channels: ['push', 'sms', 'email'],
    category: 'order-updates',
    content: { push: { title: 'Shipped', body: 'Your order is on its way', data: { orderId: '42' } }, sms: { body: 'Order 42 shipped' }, email: { subject: 'Order 42 shipped', text: 'It is on its way.', html: '<p>It is on its way.</p>' } },
    idempotencyKey: 'order-42-shipped',
  };
  const get = async (id: string) => (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<Doc>();

  before(async () => {
    h = await startTestHerald();
  });
  after(async () => {
    await h.close();
  });

  it('registers a user with an email, a phone and two devices', async () => {
    const put = await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { email: 'ada@example.com', phone: '+1 415 555 0123', locale: 'en-US', timezone: 'America/Los_Angeles' } });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json<{ phone: string }>().phone, '+14155550123');
    for (const device of [{ platform: 'ios', token: 'a'.repeat(64) }, { platform: 'android', token: 'fcm-token-1234567890' }]) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/users/u-1/devices', headers: auth, payload: device });
      assert.equal(res.statusCode, 201, res.body);
    }
    const user = await h.app.inject({ method: 'GET', url: '/v1/users/u-1', headers: auth });
    assert.equal(user.json<{ devices: unknown[] }>().devices.length, 2);
  });

  it('accepts a send with 202 and one notification per channel', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: send });
    assert.equal(res.statusCode, 202, res.body);
    sent = res.json<Sent>();
    assert.deepEqual(sent.notifications.map((n) => n.channel).sort(), ['email', 'push', 'sms']);
    assert.ok(sent.notifications.every((n) => n.userId === 'u-1' && n.status === 'requested'));
  });

  it('delivers every channel: all reach sent and appear in the outbox', async () => {
    for (const n of sent.notifications) await eventually(5000, `${n.channel} sent`, async () => ((await get(n.id)).status === 'sent' ? true : undefined));
    const outbox = await eventually(2000, 'four deliveries', async () => {
      const lines = await h.outbox();
      return lines.length >= 4 ? lines : undefined;
    });
    assert.deepEqual(outbox.map((l) => l.route).sort(), ['apns', 'email', 'fcm', 'sms']);
    assert.deepEqual(outbox.find((l) => l.route === 'sms')?.to, '+14155550123');
    assert.deepEqual(outbox.find((l) => l.route === 'email')?.to, 'ada@example.com');
    assert.deepEqual(outbox.find((l) => l.route === 'apns')?.content, send.content.push);
  });

  it('shows the status and the event timeline', async () => {
    const push = sent.notifications.find((n) => n.channel === 'push')!;
    // Push reaches 'sent' with its first route; the other route's Sent may still be on its way to the log.
    const doc = await eventually(3000, 'both push routes in the timeline', async () => {
      const d = await get(push.id);
      return d.events.length >= 3 ? d : undefined;
    });
    assert.deepEqual(doc.events.map((e) => e.type), ['NotificationRequested', 'NotificationSent', 'NotificationSent']);
    assert.deepEqual(doc.events.filter((e) => e.route).map((e) => e.route).sort(), ['apns', 'fcm']);
    const list = await h.app.inject({ method: 'GET', url: '/v1/users/u-1/notifications', headers: auth });
    await eventually(3000, 'user list of three', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/v1/users/u-1/notifications', headers: auth });
      return res.json<{ notifications: unknown[] }>().notifications.length === 3 ? true : undefined;
    });
    assert.equal(list.statusCode, 200);
  });

  it('answers a duplicate POST with the same ids and delivers nothing new', async () => {
    const again = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: { ...auth, 'idempotency-key': 'ignored-body-wins' }, payload: send });
    assert.equal(again.statusCode, 202, again.body);
    assert.deepEqual(again.json<Sent>().notifications.map((n) => n.id).sort(), sent.notifications.map((n) => n.id).sort());
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await h.outbox()).length, 4);
  });

  it('refuses the same idempotency key for a different request', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { ...send, category: 'other' } });
    assert.equal(res.statusCode, 422);
    assert.equal(res.json<{ code: string }>().code, 'idempotency_key_reused');
  });

  it('records an open once', async () => {
    const push = sent.notifications.find((n) => n.channel === 'push')!;
    for (let i = 0; i < 2; i++) assert.equal((await h.app.inject({ method: 'POST', url: `/v1/notifications/${push.id}/opened`, headers: auth })).statusCode, 202);
    const doc = await get(push.id);
    assert.equal(doc.opened, true);
    assert.equal(doc.events.filter((e) => e.type === 'NotificationOpened').length, 1);
  });

  it('keeps everything across a restart and delivers nothing twice', async () => {
    await h.restart();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await h.outbox()).length, 4);
    for (const n of sent.notifications) assert.equal((await get(n.id)).status, 'sent');
    const repeat = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: send });
    assert.deepEqual(repeat.json<Sent>().notifications.map((n) => n.id).sort(), sent.notifications.map((n) => n.id).sort());
  });

  it('needs an API key on /v1 but not on /health', async () => {
    assert.equal((await h.app.inject({ method: 'GET', url: `/v1/notifications/${sent.notifications[0]!.id}` })).statusCode, 401);
    const wrong = await h.app.inject({ method: 'GET', url: '/v1/users/u-1', headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal((await h.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  });
});
