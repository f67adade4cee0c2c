import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';

describe('bad input gets a clear 4xx problem, never a 500', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  before(async () => {
    h = await startTestHerald({ HERALD_MAX_RECIPIENTS: '3', HERALD_BODY_LIMIT_BYTES: '4096' });
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { email: 'ada@example.com' } });
  });
  after(async () => {
    await h.close();
  });

  const cases: { name: string; method: 'GET' | 'POST' | 'PUT'; url: string; payload?: unknown; raw?: string; headers?: Record<string, string>; status: number; code: string; mentions?: string }[] = [
    { name: 'malformed JSON', method: 'POST', url: '/v1/notifications', raw: '{"to": [', headers: { 'content-type': 'application/json' }, status: 400, code: 'invalid_json' },
    { name: 'an unknown field', method: 'POST', url: '/v1/notifications', payload: { to: [{ userId: 'u-1' }], category: 'c', content: { sms: { body: 'x' } }, bogus: 1 }, status: 422, code: 'validation_failed', mentions: 'bogus' },
    { name: 'a channel without content', method: 'POST', url: '/v1/notifications', payload: { to: [{ userId: 'u-1' }], channels: ['push'], category: 'c', content: { sms: { body: 'x' } } }, status: 422, code: 'validation_failed', mentions: 'content/push' },
    { name: 'too many recipients', method: 'POST', url: '/v1/notifications', payload: { to: [1, 2, 3, 4].map((i) => ({ userId: `u${i}` })), category: 'c', content: { sms: { body: 'x' } } }, status: 422, code: 'validation_failed', mentions: 'at most 3 recipients' },
    { name: 'a phone that is not a number', method: 'PUT', url: '/v1/users/u-2', payload: { phone: '12' }, status: 422, code: 'validation_failed', mentions: '/phone' },
    { name: 'an email that is not one', method: 'PUT', url: '/v1/users/u-2', payload: { email: 'not-an-email' }, status: 422, code: 'validation_failed', mentions: '/email' },
    { name: 'an email whose mailbox name is not ASCII (SendGrid drops those)', method: 'PUT', url: '/v1/users/u-2', payload: { email: 'pepé@example.com' }, status: 422, code: 'validation_failed', mentions: 'the part before the @ must be ASCII' },
    { name: 'a push data key the providers reserve', method: 'POST', url: '/v1/notifications', payload: { to: [{ userId: 'u-1' }], category: 'c', content: { push: { title: 't', body: 'b', data: { 'google.c.a': 'x' } } } }, status: 422, code: 'validation_failed', mentions: 'body/content/push/data/google.c.a: data key \\"google.c.a\\" is reserved by APNs or FCM' },
    { name: 'an empty email body (SendGrid refuses it)', method: 'POST', url: '/v1/notifications', payload: { to: [{ userId: 'u-1' }], category: 'c', content: { email: { subject: 's', text: '' } } }, status: 422, code: 'validation_failed', mentions: 'body/content/email/text: SendGrid refuses an empty body' },
    { name: 'an unknown time zone', method: 'PUT', url: '/v1/users/u-2', payload: { timezone: 'Mars/Olympus' }, status: 422, code: 'validation_failed', mentions: '/timezone' },
    { name: 'a user id with a slash-like character', method: 'PUT', url: '/v1/users/a%20b', payload: {}, status: 422, code: 'validation_failed', mentions: 'userId' },
    { name: 'a wrong content type', method: 'POST', url: '/v1/notifications', raw: 'to=u-1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type', mentions: 'Content-Type application/x-www-form-urlencoded is not accepted here; send the body as JSON with Content-Type: application/json' },
    { name: 'JSON sent as text/plain (a media type, not a schema, problem)', method: 'POST', url: '/v1/notifications', raw: '{"to":[{"userId":"u-1"}]}', headers: { 'content-type': 'text/plain; charset=utf-8' }, status: 415, code: 'unsupported_media_type', mentions: 'Content-Type text/plain is not accepted here' },
    { name: 'a body over the limit', method: 'POST', url: '/v1/notifications', payload: { to: [{ userId: 'u-1' }], category: 'c', content: { sms: { body: 'x'.repeat(5000) } } }, status: 413, code: 'body_too_large' },
    { name: 'an unknown route', method: 'GET', url: '/v1/nothing-here', status: 404, code: 'route_not_found' },
    { name: 'a malformed notification id', method: 'GET', url: '/v1/notifications/not-an-id', status: 422, code: 'validation_failed' },
    { name: 'opening an unknown notification', method: 'POST', url: '/v1/notifications/0190a0b0-0000-7000-8000-000000000000/opened', status: 404, code: 'notification_not_found' },
    { name: 'an unknown user', method: 'GET', url: '/v1/users/nobody', status: 404, code: 'user_not_found' },
    { name: 'a send time without an offset (the message keeps its example readable)', method: 'POST', url: '/v1/notifications', payload: { to: [{ userId: 'u-1' }], category: 'c', content: { sms: { body: 'x' } }, sendAt: 'tomorrow' }, status: 422, code: 'validation_failed', mentions: 'e.g. 2026-12-01T09:00:00Z' },
    { name: 'an expiry an offset moves past the year 9999 (as text it would sort before 2026)', method: 'POST', url: '/v1/notifications', payload: { to: [{ userId: 'u-1' }], category: 'c', content: { sms: { body: 'x' } }, expiresAt: '9999-12-31T23:59:59-00:01' }, status: 422, code: 'validation_failed', mentions: 'body/expiresAt: must fall within the years 0000–9999 in UTC' },
    { name: 'a list range ending past the year 9999', method: 'GET', url: '/v1/users/u-1/notifications?from=2026-01-01T00:00:00Z&to=9999-12-31T23:59:59-00:01', status: 422, code: 'validation_failed', mentions: 'querystring/to: must fall within the years 0000–9999' },
    { name: 'an idempotency key with an unpaired surrogate (it would hash like U+FFFD)', method: 'POST', url: '/v1/notifications', raw: '{"to":[{"userId":"u-1"}],"category":"c","content":{"sms":{"body":"x"}},"idempotencyKey":"order-42-\\ud800"}', headers: { 'content-type': 'application/json' }, status: 422, code: 'validation_failed', mentions: 'body/idempotencyKey: holds an unpaired surrogate' },
    { name: 'a limit in hex (it was taken as 16)', method: 'GET', url: '/v1/users/u-1/notifications?limit=0x10', status: 422, code: 'validation_failed', mentions: 'querystring/limit: a whole number in decimal digits' },
    { name: 'an empty limit', method: 'GET', url: '/v1/dead-letters?limit=', status: 422, code: 'validation_failed', mentions: 'querystring/limit' },
    { name: 'a file the docs do not have (the route exists for GET: 404, not 405)', method: 'GET', url: '/docs/static/nope.js', status: 404, code: 'route_not_found' },
    { name: 'a broken percent-encoding in the path', method: 'GET', url: '/v1/users/ada%E0%A4%A', status: 400, code: 'invalid_url' },
    { name: 'a user id over 128 characters (the schema answers, not the router)', method: 'PUT', url: `/v1/users/${'u'.repeat(129)}`, payload: {}, status: 422, code: 'validation_failed', mentions: 'userId' },
    { name: 'a misspelt list filter (it would otherwise list everything)', method: 'GET', url: '/v1/users/u-1/notifications?stauts=failed', status: 422, code: 'validation_failed', mentions: 'unknown query parameter \\"stauts\\"; this route takes limit, offset, cursor, status, channel, category, from, to' },
    { name: 'an analytics parameter under another name (timezone for tz)', method: 'GET', url: '/v1/analytics?timezone=Asia/Tokyo', status: 422, code: 'validation_failed', mentions: 'unknown query parameter \\"timezone\\"; this route takes from, to, groupBy, channel, category, template, tz, limit' },
    { name: 'unknown parameters on a catalog list, a long one cut short', method: 'GET', url: `/v1/templates?x=1&${'k'.repeat(100)}=2`, status: 422, code: 'validation_failed', mentions: `unknown query parameters \\"x\\", \\"${'k'.repeat(64)}…\\"; this route takes limit, cursor` },
    { name: 'a path segment longer than any id or token', method: 'GET', url: `/v1/users/${'u'.repeat(16_385)}`, status: 414, code: 'path_segment_too_long' },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const res = await h.app.inject({ method: c.method, url: c.url, headers: { ...auth, ...c.headers }, ...(c.raw !== undefined ? { payload: c.raw } : c.payload !== undefined ? { payload: c.payload as object } : {}) });
      assert.equal(res.statusCode, c.status, res.body);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      const body = res.json<{ code: string; status: number; title: string }>();
      assert.equal(body.code, c.code);
      assert.equal(body.status, c.status);
      if (c.mentions) assert.ok(res.body.includes(c.mentions), `the problem names ${c.mentions}: ${res.body}`);
    });
  }

  it('a send time more than a year and a day ahead is a 422 naming it (a mistyped year), alone or in a batch; a year ahead is scheduled', async () => {
    const daysAhead = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    const send = (sendAt: string) => ({ to: [{ userId: 'u-1' }], channels: ['email'], category: 'c', content: { email: { subject: 's', text: 't' } }, sendAt });
    const far = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: send('2062-11-28T09:00:00Z') });
    assert.equal(far.statusCode, 422, far.body);
    const problem = far.json<{ code: string; detail: string; errors: { path: string }[] }>();
    assert.equal(problem.code, 'send_at_too_far');
    assert.match(problem.detail, /sendAt 2062-11-28T09:00:00.000Z is more than 366 days ahead; check its year, or raise HERALD_MAX_SEND_AHEAD_DAYS/);
    assert.deepEqual(problem.errors.map((e) => e.path), ['/sendAt']);
    const batch = await h.app.inject({ method: 'POST', url: '/v1/notifications/batch', headers: auth, payload: { requests: [send(daysAhead(365)), send(daysAhead(367))] } });
    assert.equal(batch.statusCode, 207, batch.body);
    const results = batch.json<{ results: { status: number; notifications?: { status: string }[]; error?: { code: string; errors: { path: string }[] } }[] }>().results;
    assert.deepEqual(results.map((r) => [r.status, r.notifications?.[0]?.status ?? r.error?.code]), [[202, 'scheduled'], [422, 'send_at_too_far']]);
    assert.deepEqual(results[1]!.error!.errors.map((e) => e.path), ['/requests/1/sendAt']);
  });

  it('a path that exists without the method is a 405 with Allow, not a 404; a stranger still gets 401', async () => {
    for (const [method, url, allow] of [['PATCH', '/v1/users/u-1', 'GET, HEAD, PUT'], ['PUT', '/v1/notifications', 'POST'], ['PUT', '/v1/notifications/0190a0b0-0000-7000-8000-000000000000/opened', 'POST']] as const) {
      const res = await h.app.inject({ method, url, headers: auth });
      assert.equal(res.statusCode, 405, `${method} ${url}: ${res.body}`);
      assert.equal(res.headers.allow, allow);
      const body = res.json<{ code: string; allow: string[] }>();
      assert.deepEqual([body.code, body.allow.join(', ')], ['method_not_allowed', allow]);
    }
    assert.equal((await h.app.inject({ method: 'PATCH', url: '/v1/users/u-1' })).statusCode, 401, 'the API\'s shape is not shown to strangers');
    assert.equal((await h.app.inject({ method: 'PATCH', url: '/v1/nothing/here', headers: auth })).statusCode, 404);
  });

  it('a user id of 128 characters and a device token as long as a real FCM token work, logout included', async () => {
    const userId = `u${'x'.repeat(127)}`;
    // FCM registration tokens run to about 160 characters; the router refused anything over 100.
    const token = `dGVzdC1mY20tdG9rZW4:APA91bH${'x'.repeat(140)}`;
    const put = await h.app.inject({ method: 'PUT', url: `/v1/users/${userId}`, headers: auth, payload: { email: 'long@example.com' } });
    assert.equal(put.statusCode, 200, put.body);
    const added = await h.app.inject({ method: 'POST', url: `/v1/users/${userId}/devices`, headers: auth, payload: { platform: 'android', token } });
    assert.equal(added.statusCode, 201, added.body);
    const removed = await h.app.inject({ method: 'DELETE', url: `/v1/users/${userId}/devices/${token}`, headers: auth });
    assert.equal(removed.statusCode, 204, removed.body);
    const user = await h.app.inject({ method: 'GET', url: `/v1/users/${userId}`, headers: auth });
    assert.deepEqual(user.json<{ devices: { token: string; active: boolean }[] }>().devices.filter((d) => d.token === token && d.active), []);
  });

  it('masks a contact detail in the path wherever a problem echoes it (detail and instance)', async () => {
    const unknown = await h.app.inject({ method: 'GET', url: '/v1/users/someone.private@example.com', headers: auth });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.body.includes('someone.private'), false, unknown.body);
    assert.equal(unknown.json<{ instance: string }>().instance, '/v1/users/s***@e***.com');
    const token = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const wrongRoute = await h.app.inject({ method: 'GET', url: `/v1/users/u-1/devices/${token}`, headers: auth });
    assert.equal(wrongRoute.statusCode, 405, 'the path is a route for DELETE only');
    assert.equal(wrongRoute.body.includes(token), false, wrongRoute.body);
    const badUrl = await h.app.inject({ method: 'GET', url: '/v1/users/+14155550123%E0%A4%A', headers: auth });
    assert.equal(badUrl.statusCode, 400);
    assert.equal(badUrl.body.includes('4155550123'), false, badUrl.body);
  });

  it('an empty body sent as application/json is no body: a route that takes none runs, one that needs one answers 422', async () => {
    const json = { ...auth, 'content-type': 'application/json' };
    await h.app.inject({ method: 'POST', url: '/v1/users/u-1/devices', headers: auth, payload: { platform: 'ios', token: 'e'.repeat(64) } });
    const logout = await h.app.inject({ method: 'DELETE', url: `/v1/users/u-1/devices/${'e'.repeat(64)}`, headers: json, payload: '' });
    assert.equal(logout.statusCode, 204, logout.body);
    const send = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: json, payload: '' });
    assert.equal(send.statusCode, 422, send.body);
    assert.equal(send.json<{ code: string }>().code, 'validation_failed');
    const blank = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: json, payload: ' ' });
    assert.equal(blank.statusCode, 400, 'whitespace is not an empty body: still invalid JSON');
    assert.equal(blank.json<{ code: string }>().code, 'invalid_json');
    const poisoned = await h.app.inject({ method: 'PUT', url: '/v1/users/u-9', headers: json, payload: '{"__proto__": {"admin": true}}' });
    assert.equal(poisoned.statusCode, 400, 'prototype poisoning is still refused');
  });

  it('masks contact details echoed in a validation message', async () => {
    const res = await h.app.inject({ method: 'PUT', url: '/v1/users/u-3', headers: auth, payload: { email: 'someone.private@example.com extra' } });
    assert.equal(res.statusCode, 422);
    assert.equal(res.body.includes('someone.private@example.com'), false, res.body);
  });

  it('text with half of an emoji (an unpaired UTF-16 surrogate) is a 422 naming the field, in a send and in a template', async () => {
    // A lone surrogate can only arrive as a JSON escape; a whole emoji (the pair) is fine.
    const send = (body: string) => h.app.inject({ method: 'POST', url: '/v1/notifications', headers: { ...auth, 'content-type': 'application/json' }, payload: `{"to":[{"userId":"u-1"}],"category":"c","content":{"email":{"subject":"Hi","text":"${body}"}}}` });
    const half = await send('Cheers \\ud83c');
    assert.equal(half.statusCode, 422, half.body);
    const errors = half.json<{ errors: { path: string; message: string }[] }>().errors;
    assert.deepEqual(errors.map((e) => e.path), ['/content/email/text']);
    assert.match(errors[0]!.message, /unpaired surrogate/);
    assert.equal((await send('Cheers \\ud83c\\udf89')).statusCode, 202);
    const template = await h.app.inject({ method: 'POST', url: '/v1/templates/half', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"defaultLocale":"en","locales":{"en":{"sms":{"body":"Hi \\udc00"}}}}' });
    assert.equal(template.statusCode, 422, template.body);
    assert.deepEqual(template.json<{ errors: { path: string }[] }>().errors.map((e) => e.path), ['/locales/en/sms/body']);
  });

  it('an email subject with a line break or another control character is a 422 naming it; a tab is fine', async () => {
    const send = (subject: string) => h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], category: 'c', content: { email: { subject, text: 'x' } } } });
    for (const subject of ['Order 42\r\nBcc: someone@example.com', 'Order 42\nshipped', 'Order\u0000 42', 'Order \u001b[1m42']) {
      const res = await send(subject);
      assert.equal(res.statusCode, 422, JSON.stringify(subject));
      const errors = res.json<{ errors: { path: string; message: string }[] }>().errors;
      assert.deepEqual(errors.map((e) => e.path), ['/content/email/subject']);
      assert.match(errors[0]!.message, /one line: no line breaks/);
    }
    assert.equal((await send('Order 42\tshipped')).statusCode, 202);
  });

  it('opened, delivered or clicked for a notification that reached no one is a 409, and nothing is recorded', async () => {
    // u-1 has no phone: the SMS ends suppressed (no_address) within the request.
    const sms = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['sms'], category: 'c', content: { sms: { body: 'x' } } } });
    const { id, status } = sms.json<{ notifications: { id: string; status: string }[] }>().notifications[0]!;
    assert.equal(status, 'suppressed');
    const head = await h.herald.events.headPosition();
    for (const action of ['opened', 'delivered', 'clicked']) {
      const res = await h.app.inject({ method: 'POST', url: `/v1/notifications/${id}/${action}`, headers: auth });
      assert.equal(res.statusCode, 409, res.body);
      assert.equal(res.json<{ code: string }>().code, 'notification_not_delivered');
      assert.match(res.json<{ detail: string }>().detail, /is suppressed and nothing of it was sent/);
    }
    // Other tests' deliveries append meanwhile; none of this notification's.
    const recorded = await h.herald.events.readAll({ fromPosition: head, filter: { eventTypes: ['NotificationOpened', 'NotificationDelivered', 'NotificationClicked'] } });
    assert.deepEqual(recorded, [], 'no open or click recorded');
  });

  it('a send to an unknown user is accepted with the user listed as skipped', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'ghost' }], category: 'c', content: { sms: { body: 'x' } } } });
    assert.equal(res.statusCode, 202);
    assert.deepEqual(res.json(), { notifications: [], skipped: [{ userId: 'ghost', reason: 'unknown_user' }] });
  });
});

describe('template parameters nested deeper than any template reads', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  before(async () => {
    h = await startTestHerald();
  });
  after(async () => {
    await h.close();
  });

  it('template parameters nested thousands of levels deep are a 422, not a 500 from a recursion', async () => {
    // Built as text: the object, made in JS, would overflow JSON.stringify's stack itself.
    const deep = `${'{"a":['.repeat(2_500)}"x"${']}'.repeat(2_500)}`;
    const template = `{"id":"any","params":{"name":${deep}}}`;
    const requests = [
      { url: '/v1/notifications', payload: `{"to":[{"userId":"u-1"}],"channels":["email"],"category":"c","template":${template}}`, path: '/template/params' },
      { url: '/v1/notifications/batch', payload: `{"requests":[{"to":[{"userId":"u-1"}],"channels":["email"],"category":"c","template":${template}}]}`, path: '/requests/0/template/params' },
      { url: '/v1/templates/any/preview', payload: `{"params":{"name":${deep}}}`, path: '/params' },
    ];
    for (const { url, payload, path } of requests) {
      const res = await h.app.inject({ method: 'POST', url, headers: { ...auth, 'content-type': 'application/json' }, payload });
      assert.equal(res.statusCode, 422, `${url}: ${res.body.slice(0, 300)}`);
      assert.deepEqual(res.json<{ errors: { path: string; message: string }[] }>().errors.map((e) => [e.path, /nested more than 32 levels/.test(e.message)]), [[path, true]], url);
    }
    let shallow: unknown = 'x';
    for (let i = 0; i < 31; i += 1) shallow = { a: shallow };
    const ok = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['email'], category: 'c', template: { id: 'any', params: { name: shallow } } } });
    assert.equal(ok.json<{ code: string }>().code, 'template_not_found', '32 levels pass the schema');
  });
});

describe('a shorter scheduling horizon (HERALD_MAX_SEND_AHEAD_DAYS)', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  before(async () => {
    h = await startTestHerald({ HERALD_MAX_SEND_AHEAD_DAYS: '30' });
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { email: 'ada@example.com' } });
  });
  after(async () => {
    await h.close();
  });

  it('refuses a send 31 days ahead and schedules one 29 days ahead', async () => {
    const send = (days: number) => h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['email'], category: 'c', content: { email: { subject: 's', text: 't' } }, sendAt: new Date(Date.now() + days * 86_400_000).toISOString() } });
    const far = await send(31);
    assert.deepEqual([far.statusCode, far.json<{ code: string }>().code], [422, 'send_at_too_far']);
    assert.match(far.body, /is more than 30 days ahead/);
    const near = await send(29);
    assert.deepEqual([near.statusCode, near.json<{ notifications: { status: string }[] }>().notifications[0]?.status], [202, 'scheduled']);
  });
});

describe('a push larger than APNs and FCM take', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  before(async () => {
    h = await startTestHerald();
    await h.app.inject({ method: 'POST', url: '/v1/users/u-1/devices', headers: auth, payload: { platform: 'ios', token: 'a'.repeat(64) } });
  });
  after(async () => {
    await h.close();
  });

  it('is a 422 counted in UTF-8 bytes, not a dead letter after the 202', async () => {
    const send = (body: string) => h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], category: 'c', content: { push: { title: 't', body } } } });
    // 2,100 two-byte characters: within the 4,096-character field, over the 4,096-byte payload.
    const over = await send('é'.repeat(2100));
    assert.equal(over.statusCode, 422, over.body);
    assert.deepEqual(over.json<{ errors: { path: string; message: string }[] }>().errors, [
      { in: 'body', path: '/content/push', message: 'the push payload (title, body, data, sound and badge) is 4259 bytes as JSON, over the 4096 bytes APNs and FCM take; shorten it or send a link in data' },
    ]);
    assert.equal((await send('é'.repeat(2000))).statusCode, 202);
  });
});

describe('an email address with a domain in another script', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  before(async () => {
    h = await startTestHerald();
  });
  after(async () => {
    await h.close();
  });

  it('is taken and stored with its domain in ASCII form, which mail servers take', async () => {
    const put = await h.app.inject({ method: 'PUT', url: '/v1/users/idn', headers: auth, payload: { email: 'ada@Bücher.de' } });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json<{ email: string }>().email, 'ada@xn--bcher-kva.de');
    const got = await h.app.inject({ method: 'GET', url: '/v1/users/idn', headers: auth });
    assert.equal(got.json<{ email: string }>().email, 'ada@xn--bcher-kva.de');
    const ascii = await h.app.inject({ method: 'PUT', url: '/v1/users/plain', headers: auth, payload: { email: 'Ada@Example.COM' } });
    assert.equal(ascii.json<{ email: string }>().email, 'Ada@Example.COM', 'an ASCII address is kept as given');
  });

  it('is taken with an internationalised top-level domain (.рф, .中国) and RFC 5322 mailbox characters (a&b)', async () => {
    for (const [email, stored] of [['ivan@пример.рф', 'ivan@xn--e1afmkfd.xn--p1ai'], ['li@例子.中国', 'li@xn--fsqu00a.xn--fiqs8s'], ['a&b@example.com', 'a&b@example.com']]) {
      const put = await h.app.inject({ method: 'PUT', url: '/v1/users/idn-tld', headers: auth, payload: { email } });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal(put.json<{ email: string }>().email, stored);
    }
    for (const email of ['x@localhost', 'a..b@example.com', 'a@b.c']) {
      assert.equal((await h.app.inject({ method: 'PUT', url: '/v1/users/idn-tld', headers: auth, payload: { email } })).statusCode, 422, email);
    }
  });

  it('drops whitespace around an address (a form field, a CSV cell), never inside it', async () => {
    const padded = await h.app.inject({ method: 'PUT', url: '/v1/users/padded', headers: auth, payload: { email: '  ada@example.com \n' } });
    assert.equal(padded.statusCode, 200, padded.body);
    assert.equal(padded.json<{ email: string }>().email, 'ada@example.com');
    const inside = await h.app.inject({ method: 'PUT', url: '/v1/users/padded', headers: auth, payload: { email: 'ada @example.com' } });
    assert.equal(inside.statusCode, 422);
  });
});

describe('phone numbers are stored as E.164, read in the region of the user\'s locale', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  before(async () => {
    h = await startTestHerald();
  });
  after(async () => {
    await h.close();
  });

  it('a national number takes the locale\'s region', async () => {
    const gb = await h.app.inject({ method: 'PUT', url: '/v1/users/gb', headers: auth, payload: { locale: 'en-GB', phone: '07400 123456' } });
    assert.equal(gb.statusCode, 200, gb.body);
    assert.equal(gb.json<{ phone: string }>().phone, '+447400123456');
    const later = await h.app.inject({ method: 'PUT', url: '/v1/users/gb', headers: auth, payload: { phone: '07400 654321' } });
    assert.equal(later.json<{ phone: string }>().phone, '+447400654321', 'the stored locale is the hint too');
  });

  it('a locale as devices give it (en_GB, EN-gb, zh-hans_cn) is stored as BCP 47 and hints the region; anything else is a 422', async () => {
    for (const [given, stored] of [['en_GB', 'en-GB'], ['EN-gb', 'en-GB'], ['zh-hans_cn', 'zh-Hans-CN'], ['pt-BR', 'pt-BR'], ['de', 'de']] as const) {
      const res = await h.app.inject({ method: 'PUT', url: '/v1/users/loc', headers: auth, payload: { locale: given } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json<{ locale: string }>().locale, stored, given);
    }
    const gb = await h.app.inject({ method: 'PUT', url: '/v1/users/loc-gb', headers: auth, payload: { locale: 'en_GB', phone: '07400 123456' } });
    assert.equal(gb.json<{ phone: string }>().phone, '+447400123456');
    for (const bad of ['klingon', 'en_GB@calendar=gregorian', 'x-private', 'en--GB', '']) {
      const res = await h.app.inject({ method: 'PUT', url: '/v1/users/loc', headers: auth, payload: { locale: bad } });
      assert.equal(res.statusCode, 422, bad);
      assert.deepEqual(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path), ['/locale'], bad);
    }
  });

  it('a number with its country code but no + that reads as two valid numbers is a 422, not a guess (in Germany 49 151… is also a national number)', async () => {
    const de = await h.app.inject({ method: 'PUT', url: '/v1/users/de', headers: auth, payload: { locale: 'de-DE', phone: '49 151 23456789' } });
    assert.equal(de.statusCode, 422, de.body);
    assert.match(de.json<{ errors: { path: string; message: string }[] }>().errors[0]!.message, /country code 49 but has no \+/);
    assert.ok(!de.body.includes('23456789'), 'the answer does not repeat the number');
    for (const [phone, stored] of [['+49 151 23456789', '+4915123456789'], ['0151 23456789', '+4915123456789']]) {
      const ok = await h.app.inject({ method: 'PUT', url: '/v1/users/de', headers: auth, payload: { locale: 'de-DE', phone } });
      assert.equal(ok.json<{ phone: string }>().phone, stored, phone);
    }
    // One reading only: a GB number with its code and no + is still taken.
    const gb = await h.app.inject({ method: 'PUT', url: '/v1/users/gb2', headers: auth, payload: { locale: 'en-GB', phone: '44 7400 123456' } });
    assert.equal(gb.json<{ phone: string }>().phone, '+447400123456');
  });

  it('a national number without a region hint is a 422 naming the field', async () => {
    const res = await h.app.inject({ method: 'PUT', url: '/v1/users/nohint', headers: auth, payload: { phone: '07400 123456' } });
    assert.equal(res.statusCode, 422);
    assert.equal(res.json<{ errors: { path: string }[] }>().errors[0]?.path, '/phone');
  });
});
