import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import twilioSdk from 'twilio';
import { loadConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/configError.ts';
import { createLogger } from '../../src/logger.ts';
import { startHerald } from '../../src/service.ts';
import { signedByTwilio } from '../support/twilioSign.ts';
import { signLinkToken } from '../../src/tracking/linkToken.ts';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilioServer.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';

type Doc = { id: string; status: string; opened: boolean; delivered?: boolean; clicked?: boolean; bounced?: boolean; events: { type: string; source?: string; url?: string; deliveries?: { providerMessageId: string }[] }[] };

const PUBLIC_URL = 'https://herald.test';
const TWILIO_TOKEN = 'twilio-webhook-token-0123456789';
const TRACKING_SECRET = 'tracking-secret-0123456789abcdefghijklmnop';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('tracking: email pixel and links, SendGrid and Twilio webhooks, opt-outs', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;

  const send = async (channel: 'email' | 'sms', content: Record<string, unknown>) => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: [channel], category: 'news', content: { [channel]: content } } });
    assert.equal(res.statusCode, 202, res.body);
    return res.json<{ notifications: { id: string; status: string }[] }>().notifications[0]!;
  };
  const get = async (id: string) => (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<Doc>();
  const until = (id: string, what: string, check: (d: Doc) => boolean) => eventually(8000, `${id} ${what}`, async () => {
    const doc = await get(id);
    return check(doc) ? doc : undefined;
  });
  const sendgrid = (events: unknown[], options: { timestamp?: number; key?: typeof privateKey } = {}) => {
    const body = JSON.stringify(events);
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const signature = sign('sha256', Buffer.from(timestamp + body), options.key ?? privateKey).toString('base64');
    return h.app.inject({ method: 'POST', url: '/v1/webhooks/sendgrid', headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp }, payload: body });
  };
  const twilio = (path: string, fields: Record<string, string>, token = TWILIO_TOKEN) => {
    const params = new URLSearchParams(fields);
    return h.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signedByTwilio(token, `${PUBLIC_URL}${path}`, params) }, payload: params.toString() });
  };
  const userEvents = async (userId: string) => (await h.herald.events.readStream(`user-${userId}`)).map((e) => e.type);

  before(async () => {
    h = await startTestHerald({
      HERALD_PUBLIC_URL: PUBLIC_URL,
      HERALD_TRACKING_SECRET: TRACKING_SECRET,
      HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      HERALD_TWILIO_WEBHOOK_AUTH_TOKEN: TWILIO_TOKEN,
    });
    const res = await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { email: 'ada@example.com', phone: '+14155550123' } });
    assert.equal(res.statusCode, 200, res.body);
  });
  after(async () => {
    await h.close();
  });

  let emailId = '';
  let html = '';
  const path = (url: string) => url.replace(PUBLIC_URL, '');

  it('sends email with an open pixel and signed click links', async () => {
    const n = await send('email', { subject: 'Hi', html: '<html><body><p><a href="https://example.com/welcome?a=1&amp;b=2">Welcome</a> <a href="mailto:help@example.com">help</a></p></body></html>' });
    emailId = n.id;
    await until(n.id, 'sent', (d) => d.status === 'sent');
    const line = (await h.outbox()).find((l) => l.notificationId === n.id)!;
    html = (line.content as { html: string }).html;
    assert.match(html, /<a href="https:\/\/herald\.test\/t\/c\/[A-Za-z0-9_.-]+">Welcome<\/a>/);
    assert.match(html, /<a href="mailto:help@example.com">/);
    assert.match(html, /<img src="https:\/\/herald\.test\/t\/o\/[A-Za-z0-9_.-]+"[^>]*\/><\/body>/);
  });

  it('records an open when the pixel is fetched, without an API key', async () => {
    const pixel = /<img src="([^"]+)"/.exec(html)![1]!;
    const res = await h.app.inject({ method: 'GET', url: path(pixel) });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'image/gif');
    const doc = await until(emailId, 'opened', (d) => d.opened);
    assert.equal(doc.events.find((e) => e.type === 'NotificationOpened')?.source, 'email_pixel');
  });

  it('redirects a click link to the original URL and records the click', async () => {
    const link = /<a href="([^"]+)">Welcome/.exec(html)![1]!;
    const res = await h.app.inject({ method: 'GET', url: path(link) });
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, 'https://example.com/welcome?a=1&b=2');
    const doc = await until(emailId, 'clicked', (d) => d.clicked === true);
    assert.equal(doc.events.find((e) => e.type === 'NotificationClicked')?.url, 'https://example.com/welcome?a=1&b=2');
  });

  it('redirects a link a template printed from a parameter to that exact URL (Handlebars writes = as &#x3D;)', async () => {
    const url = 'https://shop.example/orders?id=42&utm_source=email';
    const template = await h.app.inject({ method: 'POST', url: '/v1/templates/order-link', headers: auth, payload: { defaultLocale: 'en', locales: { en: { email: { subject: 'Your order', html: '<body><a href="{{url}}">Order</a></body>' } } } } });
    assert.equal(template.statusCode, 201, template.body);
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['email'], category: 'news', template: { id: 'order-link', params: { url } } } });
    assert.equal(res.statusCode, 202, res.body);
    const id = res.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
    await until(id, 'sent', (d) => d.status === 'sent');
    const line = (await h.outbox()).find((l) => l.notificationId === id)!;
    const link = /<a href="([^"]+)">Order/.exec((line.content as { html: string }).html)![1]!;
    const redirect = await h.app.inject({ method: 'GET', url: path(link) });
    assert.equal(redirect.statusCode, 302);
    assert.equal(redirect.headers.location, url);
  });

  it('redirects a link holding characters beyond ASCII to its percent-encoded URL, links signed with the raw href included', async () => {
    const links: [raw: string, location: string][] = [
      ['https://shop.example/suche?q=日本', 'https://shop.example/suche?q=%E6%97%A5%E6%9C%AC'],
      ['https://shop.example/preis-€', 'https://shop.example/preis-%E2%82%AC'],
      ['https://shop.example/bücher', 'https://shop.example/b%C3%BCcher'],
    ];
    const n = await send('email', { subject: 'Angebote', html: `<body>${links.map(([raw], i) => `<a href="${raw}">${i}</a>`).join(' ')}</body>` });
    await until(n.id, 'sent', (d) => d.status === 'sent');
    const sentHtml = ((await h.outbox()).find((l) => l.notificationId === n.id)!.content as { html: string }).html;
    // Links sent before the fix were signed with the href as written: they must redirect as well.
    const signedRaw = links.map(([raw]) => `/t/c/${signLinkToken(Buffer.from(TRACKING_SECRET), { kind: 'click', notificationId: n.id, url: raw })}`);
    for (const [i, [, location]] of links.entries()) {
      const sentLink = path(new RegExp(`<a href="([^"]+)">${i}</a>`).exec(sentHtml)![1]!);
      for (const link of [sentLink, signedRaw[i]!]) {
        const res = await h.app.inject({ method: 'GET', url: link });
        assert.equal(res.statusCode, 302, res.body);
        assert.equal(res.headers.location, location);
      }
    }
  });

  it('answers 404 to a forged or mismatched link, never redirecting', async () => {
    const link = path(/<a href="([^"]+)">Welcome/.exec(html)![1]!);
    const [body, mac] = link.replace('/t/c/', '').split('.') as [string, string];
    const forgedBody = Buffer.from(`c|${emailId}|https://evil.example/`).toString('base64url');
    for (const url of [`/t/c/${forgedBody}.${mac}`, `/t/c/${body}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`, `/t/c/${body}`, path(/<img src="([^"]+)"/.exec(html)![1]!).replace('/t/o/', '/t/c/')]) {
      const res = await h.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json<{ code: string }>().code, 'tracking_link_not_found');
      assert.equal(res.headers.location, undefined);
    }
  });

  it('records the app\'s click report through POST /v1/notifications/:id/clicked', async () => {
    const res = await h.app.inject({ method: 'POST', url: `/v1/notifications/${emailId}/clicked`, headers: auth, payload: { url: 'https://example.com/other' } });
    assert.equal(res.statusCode, 202, res.body);
    const doc = await until(emailId, 'second click', (d) => d.events.filter((e) => e.type === 'NotificationClicked').length === 2);
    assert.equal(doc.events.at(-1)?.source, 'app');
    // A tap on a push has no URL: the report may come with no body at all, or an empty JSON one.
    for (const headers of [auth, { ...auth, 'content-type': 'application/json' }]) {
      const bare = await h.app.inject({ method: 'POST', url: `/v1/notifications/${emailId}/clicked`, headers });
      assert.equal(bare.statusCode, 202, bare.body);
    }
    const tapped = await until(emailId, 'a click without a URL', (d) => d.events.filter((e) => e.type === 'NotificationClicked').length === 3);
    assert.equal(tapped.events.at(-1)?.url, undefined);
  });

  it('refuses unsigned, wrongly signed and replayed SendGrid batches', async () => {
    const events = [{ event: 'delivered', email: 'ada@example.com', notificationId: emailId, sg_event_id: 'x' }];
    const unsigned = await h.app.inject({ method: 'POST', url: '/v1/webhooks/sendgrid', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(events) });
    assert.equal(unsigned.statusCode, 401);
    assert.equal(unsigned.json<{ code: string }>().code, 'webhook_unsigned');
    const forged = await sendgrid(events, { key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey });
    assert.equal(forged.statusCode, 403);
    assert.equal(forged.json<{ code: string }>().code, 'webhook_signature_invalid');
    const replayed = await sendgrid(events, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    assert.equal(replayed.statusCode, 403);
    assert.equal(replayed.json<{ code: string }>().code, 'webhook_timestamp_stale');
    assert.equal((await get(emailId)).delivered, undefined);
  });

  it('records a signed SendGrid batch: delivered, then a hard bounce that opts the address out', async () => {
    const res = await sendgrid([
      { event: 'processed', email: 'ada@example.com', notificationId: emailId, sg_event_id: 'p1' },
      { event: 'delivered', email: 'ada@example.com', notificationId: emailId, sg_event_id: 'd1', sg_message_id: 'X.filter1' },
      { event: 'bounce', type: 'bounce', email: 'ada@example.com', notificationId: emailId, sg_event_id: 'b1', reason: '550 5.1.1 user unknown' },
      { event: 'delivered', email: 'ada@example.com', notificationId: emailId, sg_event_id: 'd1' },
      { event: 'open', email: 'nobody@example.com', sg_message_id: 'UNKNOWN.filter1', sg_event_id: 'o9' },
    ]);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { received: 4, recorded: 2, duplicates: 1, unmatched: 1, optedOut: 1, ignored: 1 });
    const doc = await until(emailId, 'delivered and bounced', (d) => d.delivered === true && d.bounced === true);
    assert.equal(doc.events.filter((e) => e.type === 'NotificationDelivered').length, 1);
    assert.ok((await userEvents('u-1')).includes('ContactOptedOut'));
    const next = await send('email', { subject: 'Again', text: 'x' });
    assert.equal(next.status, 'suppressed');
  });

  it('opts an address out for every user who has it, whatever its case: mail systems ignore case', async () => {
    for (const [userId, email] of [['grace', 'Grace.Hopper@Example.org'], ['grace-work', 'grace.hopper@example.org'], ['other', 'someone@example.org']] as const) {
      assert.equal((await h.app.inject({ method: 'PUT', url: `/v1/users/${userId}`, headers: auth, payload: { email } })).statusCode, 200);
    }
    const sent = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'grace' }], channels: ['email'], category: 'news', content: { email: { subject: 's', text: 't' } } } });
    const id = sent.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
    await until(id, 'sent', (d) => d.status === 'sent');
    // The users are found through the contacts read model, which trails the log by up to 250 ms.
    await eventually(8000, 'both users of the address in the contacts read model', async () => ((await h.herald.readModels.find('contacts', { where: { emailKey: 'grace.hopper@example.org' } })).length === 2 ? true : undefined));
    // SendGrid reports the address in lower case.
    const res = await sendgrid([{ event: 'spamreport', email: 'grace.hopper@example.org', notificationId: id, sg_event_id: 'spam-grace' }]);
    assert.equal(res.json<{ optedOut: number }>().optedOut, 2, res.body);
    assert.ok((await userEvents('grace')).includes('ContactOptedOut'));
    assert.ok((await userEvents('grace-work')).includes('ContactOptedOut'));
    assert.ok(!(await userEvents('other')).includes('ContactOptedOut'));
  });

  it('stores an unmatched provider event and lists it', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/tracking/unmatched?provider=sendgrid', headers: auth });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ unmatched: { providerMessageId: string; kind: string; to: string }[]; total: number }>();
    assert.equal(body.total, 1);
    const [stored] = body.unmatched;
    assert.equal(stored?.providerMessageId, 'UNKNOWN');
    assert.equal(stored?.kind, 'opened');
    assert.ok(!stored?.to.includes('nobody@'), 'the address is stored masked');
    const retry = await h.app.inject({ method: 'POST', url: '/v1/tracking/unmatched/retry', headers: auth, payload: { provider: 'sendgrid' } });
    assert.deepEqual(retry.json(), { matched: 0, unmatched: 1 });
  });

  it('opts an address out when SendGrid drops mail to it as Invalid; not for a drop about the message', async () => {
    for (const [userId, email] of [['invalid-mail', 'no-such-mailbox@example.net'], ['bad-header', 'fine@example.net']] as const) {
      assert.equal((await h.app.inject({ method: 'PUT', url: `/v1/users/${userId}`, headers: auth, payload: { email } })).statusCode, 200);
    }
    // Matched by address alone (no notification): through the contacts read model, which trails the log.
    await eventually(8000, 'both users in the contacts read model', async () => ((await h.herald.readModels.find('contacts', { where: { emailKey: 'fine@example.net' } })).length === 1 && (await h.herald.readModels.find('contacts', { where: { emailKey: 'no-such-mailbox@example.net' } })).length === 1 ? true : undefined));
    const optOuts = async (userId: string) => (await h.herald.events.readStream(`user-${userId}`)).filter((e) => e.type === 'ContactOptedOut').map((e) => e.data.reason);
    const res = await sendgrid([
      { event: 'dropped', reason: 'Invalid', email: 'no-such-mailbox@example.net', sg_message_id: 'DROP1.filter1', sg_event_id: 'drop-invalid' },
      { event: 'dropped', reason: 'Invalid SMTPAPI header', email: 'fine@example.net', sg_message_id: 'DROP2.filter1', sg_event_id: 'drop-header' },
    ]);
    assert.equal(res.json<{ optedOut: number }>().optedOut, 1, res.body);
    assert.deepEqual(await optOuts('invalid-mail'), ['invalid_address']);
    assert.deepEqual(await optOuts('bad-header'), []);
  });

  it('records a signed Twilio delivered callback, matched by MessageSid', async () => {
    const n = await send('sms', { body: 'code 1234' });
    const doc = await until(n.id, 'sent', (d) => d.status === 'sent');
    const sid = doc.events.find((e) => e.type === 'NotificationSent')!.deliveries![0]!.providerMessageId;
    await eventually(5000, 'provider_messages row', async () => ((await h.herald.readModels.find('provider_messages', { where: { providerMessageId: sid } })).length > 0 ? true : undefined));
    const forged = await twilio('/v1/webhooks/twilio/status', { MessageSid: sid, MessageStatus: 'delivered' }, 'another-token-0123456789');
    assert.equal(forged.statusCode, 403);
    const res = await twilio('/v1/webhooks/twilio/status', { MessageSid: sid, MessageStatus: 'delivered', To: '+14155550123' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<{ recorded: number }>().recorded, 1);
    await until(n.id, 'delivered', (d) => d.delivered === true);
  });

  it('opts a number out on a status callback that says it will never take SMS, only while it is still the user\'s phone', async () => {
    const sendSms = async (userId: string, body: string) => {
      const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId }], channels: ['sms'], category: 'news', content: { sms: { body } } } });
      assert.equal(res.statusCode, 202, res.body);
      return res.json<{ notifications: { id: string; status: string }[] }>().notifications[0]!;
    };
    const sidOf = async (id: string) => {
      const doc = await until(id, 'sent', (d) => d.status === 'sent');
      const sid = doc.events.find((e) => e.type === 'NotificationSent')!.deliveries![0]!.providerMessageId;
      await eventually(5000, 'provider_messages row', async () => ((await h.herald.readModels.find('provider_messages', { where: { providerMessageId: sid } })).length > 0 ? true : undefined));
      return sid;
    };
    const optOuts = async (userId: string) => (await h.herald.events.readStream(`user-${userId}`)).filter((e) => e.type === 'ContactOptedOut').map((e) => [e.data.address, e.data.reason]);
    const users = { landline: '+14155550161', moved: '+14155550162', blocked: '+14155550163' } as const;
    for (const [userId, phone] of Object.entries(users)) assert.equal((await h.app.inject({ method: 'PUT', url: `/v1/users/${userId}`, headers: auth, payload: { phone } })).statusCode, 200);
    const landline = await sendSms('landline', 'one');
    const moved = await sendSms('moved', 'two');
    const blocked = await sendSms('blocked', 'three');
    const sids = { landline: await sidOf(landline.id), moved: await sidOf(moved.id), blocked: await sidOf(blocked.id) };
    // The user gives a new number before Twilio's callback about the old one arrives.
    assert.equal((await h.app.inject({ method: 'PUT', url: '/v1/users/moved', headers: auth, payload: { phone: '+14155550169' } })).statusCode, 200);

    const landlineCallback = await twilio('/v1/webhooks/twilio/status', { MessageSid: sids.landline, MessageStatus: 'undelivered', ErrorCode: '30006', To: users.landline });
    assert.equal(landlineCallback.statusCode, 200, landlineCallback.body);
    assert.deepEqual(landlineCallback.json<{ recorded: number; optedOut: number }>(), { received: 1, recorded: 1, duplicates: 0, unmatched: 0, optedOut: 1, ignored: 0 });
    assert.deepEqual(await optOuts('landline'), [[users.landline, 'invalid_address']]);
    assert.equal((await sendSms('landline', 'again')).status, 'suppressed');

    const movedCallback = await twilio('/v1/webhooks/twilio/status', { MessageSid: sids.moved, MessageStatus: 'undelivered', ErrorCode: '30005', To: users.moved });
    assert.equal(movedCallback.json<{ optedOut: number }>().optedOut, 0, movedCallback.body);
    assert.deepEqual(await optOuts('moved'), [], 'the old number is no longer the user\'s: nothing to opt out');
    assert.equal((await sendSms('moved', 'to the new number')).status, 'requested');

    const blockedCallback = await twilio('/v1/webhooks/twilio/status', { MessageSid: sids.blocked, MessageStatus: 'undelivered', ErrorCode: '30004', To: users.blocked });
    assert.equal(blockedCallback.json<{ optedOut: number }>().optedOut, 0, blockedCallback.body);
    assert.deepEqual(await optOuts('blocked'), []);
    const doc = await until(blocked.id, 'undelivered', (d) => d.events.some((e) => e.type === 'NotificationUndelivered'));
    assert.equal(doc.events.find((e) => e.type === 'NotificationUndelivered')?.source, 'twilio');
  });

  it('opts the number out of SMS on a STOP reply; the next SMS is suppressed', async () => {
    const res = await twilio('/v1/webhooks/twilio/inbound', { From: '+14155550123', To: '+15005550006', Body: 'Stop', MessageSid: 'SMstop1' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.headers['content-type'] as string, /text\/xml/);
    assert.equal((await userEvents('u-1')).filter((t) => t === 'ContactOptedOut').length, 2);
    const next = await send('sms', { body: 'still there?' });
    assert.equal(next.status, 'suppressed');
  });

  it('opts the number back in on a START reply (Twilio lifts its block too); the next SMS goes, and a second START changes nothing', async () => {
    const res = await twilio('/v1/webhooks/twilio/inbound', { From: '+14155550123', To: '+15005550006', Body: 'START', MessageSid: 'SMstart1' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual((await userEvents('u-1')).filter((t) => t.startsWith('ContactOpted')).slice(-2), ['ContactOptedOut', 'ContactOptedIn']);
    const next = await send('sms', { body: 'welcome back' });
    assert.equal(next.status, 'requested');
    await twilio('/v1/webhooks/twilio/inbound', { From: '+14155550123', To: '+15005550006', Body: 'yes', MessageSid: 'SMyes1' });
    assert.equal((await userEvents('u-1')).filter((t) => t === 'ContactOptedIn').length, 1);
  });

  it('acts on each STOP and START once, by MessageSid: a captured START posted again after a later STOP opts no one back in', async () => {
    const reply = (Body: string, MessageSid: string) => twilio('/v1/webhooks/twilio/inbound', { From: '+14155550123', To: '+15005550006', Body, MessageSid });
    const optOuts = async () => (await h.herald.events.readStream('user-u-1')).filter((e) => e.type.startsWith('ContactOpted')).map((e) => e.type);
    assert.equal((await reply('STOP', 'SMreplay1')).statusCode, 200);
    assert.equal((await reply('START', 'SMreplay2')).statusCode, 200);
    assert.equal((await reply('STOP', 'SMreplay3')).statusCode, 200);
    const before = await optOuts();
    assert.equal(before.at(-1), 'ContactOptedOut');
    const replayed = await reply('START', 'SMreplay2');
    assert.equal(replayed.statusCode, 200, 'Twilio-shaped answer, nothing done');
    assert.match(replayed.body, /<Response><\/Response>/);
    assert.deepEqual(await optOuts(), before, 'still opted out');
    assert.equal((await send('sms', { body: 'still stopped?' })).status, 'suppressed');
    const [handled] = await h.herald.events.readStream('provider-reply-twilio-SMreplay2');
    assert.deepEqual({ type: handled?.type, keyword: handled?.data.keyword, changed: handled?.data.changed }, { type: 'ProviderReplyHandled', keyword: 'start', changed: 1 });
    assert.ok(!JSON.stringify(handled?.data).includes('+14155550123'), 'the number is stored masked');
    // A START without its MessageSid cannot be told from a repeat: a clear 422, nothing done.
    const bare = await twilio('/v1/webhooks/twilio/inbound', { From: '+14155550123', To: '+15005550006', Body: 'START' });
    assert.equal(bare.statusCode, 422, bare.body);
    assert.match(String(bare.headers['content-type']), /^application\/problem\+json/);
    assert.match(bare.json<{ detail: string }>().detail, /a START needs its MessageSid/);
    assert.deepEqual(await optOuts(), before);
    // A STOP without one is still acted on: an opt-out is never lost, and twice is the same as once.
    assert.equal((await reply('START', 'SMreplay4')).statusCode, 200);
    assert.equal((await twilio('/v1/webhooks/twilio/inbound', { From: '+14155550123', To: '+15005550006', Body: 'STOP' })).statusCode, 200);
    assert.equal((await optOuts()).at(-1), 'ContactOptedOut');
    // Any other text needs none and is answered as before.
    assert.equal((await twilio('/v1/webhooks/twilio/inbound', { From: '+14155550123', To: '+15005550006', Body: 'thanks!' })).statusCode, 200);
  });
});

describe('Twilio callbacks are verified against the URL Twilio calls', () => {
  const ACCOUNT_SID = `AC${'a'.repeat(32)}`;
  const AUTH_TOKEN = 'f'.repeat(32);
  // Another origin than HERALD_PUBLIC_URL, behind a proxy that strips /herald, with a query string.
  const CALLBACK = 'https://hooks.herald.test/herald/v1/webhooks/twilio/status?via=twilio';
  const smsEnv = (fakeUrl: string) => ({ HERALD_WORKER_THREAD: 'off', HERALD_TWILIO_ACCOUNT_SID: ACCOUNT_SID, HERALD_TWILIO_AUTH_TOKEN: AUTH_TOKEN, HERALD_TWILIO_FROM: '+15005550006', HERALD_TWILIO_BASE_URL: fakeUrl, HERALD_TWILIO_STATUS_CALLBACK_URL: CALLBACK });
  let fake: FakeTwilio;
  before(async () => {
    fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, password: AUTH_TOKEN });
  });
  after(async () => {
    await fake.close();
  });

  it('records a status callback signed over HERALD_TWILIO_STATUS_CALLBACK_URL, as Twilio signs it, whatever HERALD_PUBLIC_URL is', async () => {
    const h = await startTestHerald({ ...smsEnv(fake.baseUrl), HERALD_PUBLIC_URL: PUBLIC_URL });
    try {
      await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { phone: '+14155550123' } });
      const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['sms'], category: 'news', content: { sms: { body: 'hello' } } } });
      const id = res.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
      const sent = await eventually(8000, 'the SMS at Twilio', async () => fake.requests.find((r) => r.sid && r.body === 'hello'));
      assert.equal(sent.statusCallback, CALLBACK);
      await eventually(5000, 'provider_messages row', async () => ((await h.herald.readModels.find('provider_messages', { where: { providerMessageId: sent.sid! } })).length > 0 ? true : undefined));
      const fields = { MessageSid: sent.sid!, MessageStatus: 'delivered', To: '+14155550123', AccountSid: ACCOUNT_SID };
      const signature = twilioSdk.getExpectedTwilioSignature(AUTH_TOKEN, CALLBACK, fields);
      assert.ok(twilioSdk.validateRequest(AUTH_TOKEN, signature, CALLBACK, fields), 'genuine, by the SDK');
      const callback = await h.app.inject({ method: 'POST', url: '/v1/webhooks/twilio/status?via=twilio', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, payload: new URLSearchParams(fields).toString() });
      assert.equal(callback.statusCode, 200, callback.body);
      assert.equal(callback.json<{ recorded: number }>().recorded, 1);
      // The same fields signed over HERALD_PUBLIC_URL + path are not what Twilio was told to call.
      const elsewhere = twilioSdk.getExpectedTwilioSignature(AUTH_TOKEN, `${PUBLIC_URL}/v1/webhooks/twilio/status?via=twilio`, fields);
      const refused = await h.app.inject({ method: 'POST', url: '/v1/webhooks/twilio/status?via=twilio', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': elsewhere }, payload: new URLSearchParams(fields).toString() });
      assert.equal(refused.statusCode, 403);
      const doc = await eventually(8000, 'delivered', async () => {
        const d = (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<Doc>();
        return d.delivered ? d : undefined;
      });
      assert.equal(doc.events.find((e) => e.type === 'NotificationDelivered')?.source, 'twilio');
    } finally {
      await h.close();
    }
  });

  it('accepts callbacks signed as Twilio signs them: credentials in the callback URL left out, a default port written or not', async () => {
    const token = AUTH_TOKEN;
    const h = await startTestHerald({ ...smsEnv(fake.baseUrl), HERALD_PUBLIC_URL: PUBLIC_URL, HERALD_TWILIO_STATUS_CALLBACK_URL: 'https://twilio:s3cret@hooks.herald.test/v1/webhooks/twilio/status' });
    try {
      const post = (path: string, fields: Record<string, string>, signedUrl: string) => h.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSdk.getExpectedTwilioSignature(token, signedUrl, fields) }, payload: new URLSearchParams(fields).toString() });
      const status = { MessageSid: 'SMnotours', MessageStatus: 'delivered', To: '+14155550123' };
      // Twilio calls https://twilio:s3cret@hooks.herald.test/… with those credentials, and signs the URL without them.
      const withoutCredentials = await post('/v1/webhooks/twilio/status', status, 'https://hooks.herald.test/v1/webhooks/twilio/status');
      assert.equal(withoutCredentials.statusCode, 200, withoutCredentials.body);
      assert.equal(withoutCredentials.json<{ unmatched: number }>().unmatched, 1);
      const withPort = await post('/v1/webhooks/twilio/status', status, 'https://hooks.herald.test:443/v1/webhooks/twilio/status');
      assert.equal(withPort.statusCode, 200, withPort.body);
      // The inbound webhook configured in Twilio as https://herald.test:443/…: Twilio keeps the port it was given.
      const inbound = await post('/v1/webhooks/twilio/inbound', { From: '+14155550177', To: '+15005550006', Body: 'hello', MessageSid: 'SMport1' }, `${PUBLIC_URL}:443/v1/webhooks/twilio/inbound`);
      assert.equal(inbound.statusCode, 200, inbound.body);
      const elsewhere = await post('/v1/webhooks/twilio/inbound', { From: '+14155550177', To: '+15005550006', Body: 'hello', MessageSid: 'SMport2' }, `${PUBLIC_URL}:8443/v1/webhooks/twilio/inbound`);
      assert.equal(elsewhere.statusCode, 403);
    } finally {
      await h.close();
    }
  });

  it('refuses to start, naming HERALD_PUBLIC_URL, where STOP replies could never verify', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-twilio-url-'));
    try {
      const config = loadConfig({ HERALD_DATA_DIR: dir, HERALD_API_KEY: 'test-key-0123456789abcdef', ...smsEnv(fake.baseUrl) });
      const outcome: unknown = await startHerald(config, createLogger('silent')).then(async (herald) => herald.stop(), (error: unknown) => error);
      assert.ok(outcome instanceof ConfigError, 'refused with a ConfigError (exit 2)');
      assert.match(outcome.message, /^HERALD_PUBLIC_URL is not set, so Twilio's signatures on STOP and START replies \(\/v1\/webhooks\/twilio\/inbound\) would be checked against http:\/\/127\.0\.0\.1:3000/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
