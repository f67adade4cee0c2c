import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';

type Sent = { notifications: { id: string; userId: string; channel: string }[] };

describe('sending with a template, in each user\'s locale', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  const send = (payload: object) => h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { category: 'orders', ...payload } });

  before(async () => {
    h = await startTestHerald();
    await h.app.inject({ method: 'PUT', url: '/v1/users/min', headers: auth, payload: { email: 'min@example.com', locale: 'ko-KR' } });
    await h.app.inject({ method: 'PUT', url: '/v1/users/ada', headers: auth, payload: { email: 'ada@example.com', locale: 'en-US' } });
    const created = await h.app.inject({
      method: 'POST', url: '/v1/templates/order-shipped', headers: auth,
      payload: { defaultLocale: 'en', locales: { en: { email: { subject: 'Order {{orderId}} shipped', html: '<p>Hi {{name}}</p>' } }, ko: { email: { subject: '주문 {{orderId}} 발송', html: '<p>{{name}}님</p>' } } } },
    });
    assert.equal(created.statusCode, 201, created.body);
  });
  after(async () => {
    await h.close();
  });

  it('renders per user locale (ko-KR → ko, en-US → en), escapes HTML and records what was sent', async () => {
    const res = await send({ to: [{ userId: 'min' }, { userId: 'ada' }], channels: ['email'], template: { id: 'order-shipped', params: { orderId: '42', name: '<b>Kim</b>' } } });
    assert.equal(res.statusCode, 202, res.body);
    const ids = res.json<Sent>().notifications.map((n) => n.id);
    const outbox = await eventually(5000, 'two emails', async () => {
      const lines = (await h.outbox()).filter((l) => ids.includes(l.notificationId));
      return lines.length === 2 ? lines : undefined;
    });
    const by = (to: string) => outbox.find((l) => l.to === to)?.content as { subject: string; html: string };
    assert.equal(by('min@example.com').subject, '주문 42 발송');
    assert.match(by('min@example.com').html, /&lt;b&gt;Kim&lt;\/b&gt;님/);
    assert.equal(by('ada@example.com').subject, 'Order 42 shipped');
    const doc = await h.app.inject({ method: 'GET', url: `/v1/notifications/${ids[0]}`, headers: auth });
    assert.deepEqual((doc.json<{ events: { template?: unknown }[] }>().events[0]?.template as { id: string }).id, 'order-shipped');
  });

  it('a later template edit never rewrites what was sent', async () => {
    const res = await send({ to: [{ userId: 'ada' }], channels: ['email'], template: { id: 'order-shipped', params: { orderId: '7', name: 'Ada' } } });
    const id = res.json<Sent>().notifications[0]!.id;
    await h.app.inject({ method: 'PUT', url: '/v1/templates/order-shipped', headers: auth, payload: { defaultLocale: 'en', locales: { en: { email: { subject: 'CHANGED {{orderId}}', html: '<p>x</p>' } } } } });
    const stream = await h.herald.events.readStream(`notification-${id}`);
    assert.deepEqual((stream[0]?.data as { content: { email: { subject: string } } }).content.email.subject, 'Order 7 shipped');
  });

  it('a missing parameter or an unknown template is a 422 at request time, and nothing is written', async () => {
    const before = await h.herald.events.headPosition();
    const missing = await send({ to: [{ userId: 'min' }, { userId: 'ada' }], channels: ['email'], template: { id: 'order-shipped', version: 1, params: { orderId: '1' } } });
    assert.equal(missing.statusCode, 422, missing.body);
    assert.equal(missing.json<{ code: string }>().code, 'template_parameter_missing');
    assert.match(missing.body, /email\.(subject|html)/);
    const unknown = await send({ to: [{ userId: 'ada' }], channels: ['email'], template: { id: 'nope', params: {} } });
    assert.equal(unknown.statusCode, 422);
    assert.equal(unknown.json<{ code: string }>().code, 'template_not_found');
    const noSms = await send({ to: [{ userId: 'ada' }], channels: ['sms'], template: { id: 'order-shipped', params: { orderId: '1', name: 'x' } } });
    assert.equal(noSms.json<{ code: string }>().code, 'template_channel_missing');
    // An object where the template prints text would have been sent as "[object Object]".
    const object = await send({ to: [{ userId: 'ada' }], channels: ['email'], template: { id: 'order-shipped', version: 1, params: { orderId: { id: '1' }, name: 'Ada' } } });
    assert.equal(object.statusCode, 422, object.body);
    assert.equal(object.json<{ code: string }>().code, 'template_parameter_invalid');
    assert.match(object.json<{ errors: { path: string; message: string }[] }>().errors[0]!.message, /parameter "orderId" is an object, which cannot be printed as text/);
    // Half of an emoji (a client cut the string between its two UTF-16 halves) would reach the recipient as �.
    const half = await send({ to: [{ userId: 'ada' }], channels: ['email'], template: { id: 'order-shipped', version: 1, params: { orderId: '1', name: 'Ada \ud83d' } } });
    assert.equal(half.statusCode, 422, half.body);
    assert.equal(half.json<{ code: string }>().code, 'template_parameter_invalid');
    assert.match(half.json<{ errors: { message: string }[] }>().errors[0]!.message, /unpaired surrogate/);
    // A parameter holding a line break would put it in the subject, a mail header.
    const twoLines = await send({ to: [{ userId: 'ada' }], channels: ['email'], template: { id: 'order-shipped', version: 1, params: { orderId: '1\r\nBcc: someone@example.com', name: 'Ada' } } });
    assert.equal(twoLines.statusCode, 422, twoLines.body);
    assert.equal(twoLines.json<{ code: string }>().code, 'template_parameter_invalid');
    assert.match(twoLines.json<{ detail: string }>().detail, /email\.subject/);
    assert.deepEqual(twoLines.json<{ errors: { path: string; message: string }[] }>().errors.map((e) => [e.path, /one line: no line breaks/.test(e.message)]), [['/template/params', true]]);
    const both = await send({ to: [{ userId: 'ada' }], content: { sms: { body: 'x' } }, template: { id: 'order-shipped', params: {} } });
    assert.equal(both.statusCode, 422);
    const written = await h.herald.events.readAll({ fromPosition: before, filter: { eventTypes: ['NotificationRequested', 'RateSlotTaken'] } });
    assert.deepEqual(written, [], 'no notification written');
  });
});
