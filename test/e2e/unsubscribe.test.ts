import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';

type Doc = { id: string; status: string; suppressedReason?: string; events: { type: string; source?: string; reason?: string }[] };
type Line = { notificationId: string; headers?: Record<string, string> };

const PUBLIC_URL = 'https://herald.test';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('one-click unsubscribe: the List-Unsubscribe link of email', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;

  const send = async (category: string, channel: 'email' | 'sms' = 'email') => {
    const content = channel === 'email' ? { subject: 'This week', text: 'Five new recipes' } : { body: 'Five new recipes' };
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: [channel], category, content: { [channel]: content } } });
    assert.equal(res.statusCode, 202, res.body);
    return res.json<{ notifications: { id: string; status: string }[] }>().notifications[0]!;
  };
  const get = async (id: string) => (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<Doc>();
  const sentLine = (id: string) => eventually(8000, `${id} in the outbox`, async () => (await h.outbox() as Line[]).find((l) => l.notificationId === id));
  const preferences = async () => (await h.app.inject({ method: 'GET', url: '/v1/users/u-1/preferences', headers: auth })).json<{ categoryChannels: Record<string, Record<string, boolean>> }>();
  const userEvents = async () => (await h.herald.events.readStream('user-u-1')).map((e) => e.type);
  const path = (header: string | undefined) => /^<https:\/\/herald\.test(\/t\/u\/[^>]+)>$/.exec(header ?? '')?.[1];

  before(async () => {
    h = await startTestHerald({ HERALD_PUBLIC_URL: PUBLIC_URL });
    for (const [url, payload] of [['/v1/users/u-1', { email: 'ada@example.com', phone: '+14155550123' }], ['/v1/categories/password-reset', { transactional: true }]] as const) {
      const res = await h.app.inject({ method: 'PUT', url, headers: auth, payload });
      assert.equal(res.statusCode, 200, res.body);
    }
  });
  after(async () => {
    await h.close();
  });

  let link = '';
  let newsId = '';

  it('sends email of a category the user can opt out of with List-Unsubscribe and List-Unsubscribe-Post', async () => {
    const n = await send('news');
    newsId = n.id;
    const line = await sentLine(n.id);
    assert.equal(line.headers?.['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click');
    link = path(line.headers?.['List-Unsubscribe']) ?? '';
    assert.ok(link, JSON.stringify(line.headers));
  });

  it('sends transactional email without them: opting out of its category would not stop it', async () => {
    const line = await sentLine((await send('password-reset')).id);
    assert.equal(line.headers, undefined);
  });

  it('answers GET with a page whose button POSTs, and changes nothing (link scanners open every link)', async () => {
    const res = await h.app.inject({ method: 'GET', url: link });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /&ldquo;news&rdquo; emails\?/);
    assert.match(res.body, /<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">/);
    assert.deepEqual((await preferences()).categoryChannels, {});
    assert.ok(!(await get(newsId)).events.some((e) => e.type === 'NotificationUnsubscribed'));
  });

  it('unsubscribes on the mail client\'s one-click POST, without an API key: the category by email, recorded on the notification', async () => {
    const res = await h.app.inject({ method: 'POST', url: link, headers: FORM, payload: 'List-Unsubscribe=One-Click' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.body, /no longer receive &ldquo;news&rdquo; emails/);
    assert.deepEqual((await preferences()).categoryChannels, { news: { email: false } });
    const doc = await eventually(8000, 'the unsubscribe on the notification', async () => {
      const d = await get(newsId);
      return d.events.some((e) => e.type === 'NotificationUnsubscribed') ? d : undefined;
    });
    assert.equal(doc.events.find((e) => e.type === 'NotificationUnsubscribed')?.source, 'list_unsubscribe');
  });

  it('takes the same POST again (and as multipart) without a second change', async () => {
    const before = await userEvents();
    const again = await h.app.inject({ method: 'POST', url: link, headers: FORM, payload: 'List-Unsubscribe=One-Click' });
    assert.equal(again.statusCode, 200);
    const boundary = 'x-boundary';
    const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`;
    const asMultipart = await h.app.inject({ method: 'POST', url: link, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: multipart });
    assert.equal(asMultipart.statusCode, 200);
    assert.deepEqual(await userEvents(), before);
    assert.equal((await get(newsId)).events.filter((e) => e.type === 'NotificationUnsubscribed').length, 1);
  });

  it('suppresses the next email of that category, and only by email', async () => {
    const email = await send('news');
    assert.equal(email.status, 'suppressed');
    assert.equal((await get(email.id)).events.find((e) => e.type === 'NotificationSuppressed')?.reason, 'category_opted_out');
    assert.equal((await send('news', 'sms')).status, 'requested');
    assert.equal((await send('tips')).status, 'requested');
  });

  it('answers 404 to a forged link, a changed one and another kind of signed link', async () => {
    const [body, mac] = link.slice('/t/u/'.length).split('.') as [string, string];
    const otherId = Buffer.from('u|0190a0b0-0000-7000-8000-000000000002').toString('base64url');
    const openToken = Buffer.from(`o|${newsId}`).toString('base64url');
    for (const url of [`/t/u/${otherId}.${mac}`, `/t/u/${body}.${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`, `/t/u/${openToken}.${mac}`, '/t/u/nonsense']) {
      const res = await h.app.inject({ method: 'POST', url, headers: FORM, payload: 'List-Unsubscribe=One-Click' });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json<{ code: string }>().code, 'tracking_link_not_found');
    }
  });
});

describe('the unsubscribe link in an email\'s body ([[herald:unsubscribe]])', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  const TAG = '[[herald:unsubscribe]]';
  const html = `<p>Five new recipes</p><p><a href="${TAG}">Unsubscribe</a></p>`;
  const send = (category: string, email: Record<string, string>) => h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['email'], category, content: { email } } });

  before(async () => {
    h = await startTestHerald({ HERALD_PUBLIC_URL: PUBLIC_URL });
    for (const [url, payload] of [['/v1/users/u-1', { email: 'ada@example.com' }], ['/v1/categories/password-reset', { transactional: true }]] as const) {
      assert.equal((await h.app.inject({ method: 'PUT', url, headers: auth, payload })).statusCode, 200);
    }
  });
  after(async () => {
    await h.close();
  });

  it('is replaced by the notification\'s own link, the header\'s, whose page unsubscribes', async () => {
    const res = await send('news', { subject: 'This week', html, text: `Unsubscribe: ${TAG}` });
    assert.equal(res.statusCode, 202, res.body);
    const id = res.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
    const line = await eventually(8000, 'the email in the outbox', async () => (await h.outbox() as (Line & { content: { html: string; text: string } })[]).find((l) => l.notificationId === id));
    const header = /^<(https:\/\/herald\.test\/t\/u\/[^>]+)>$/.exec(line.headers?.['List-Unsubscribe'] ?? '')?.[1];
    assert.ok(header, JSON.stringify(line.headers));
    assert.ok(line.content.html.includes(`<a href="${header}">Unsubscribe</a>`), line.content.html);
    assert.equal(line.content.text, `Unsubscribe: ${header}`);
    const page = await h.app.inject({ method: 'GET', url: header.slice(PUBLIC_URL.length) });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /&ldquo;news&rdquo; emails\?/);
  });

  it('is a 422 in a transactional category, or in a subject, before anything is written', async () => {
    const head = await h.herald.events.headPosition();
    for (const [category, email, why] of [['password-reset', { subject: 'Reset', html }, /transactional/], ['news', { subject: `Out ${TAG}`, text: 'x' }, /not its subject/]] as const) {
      const res = await send(category, email);
      assert.equal(res.statusCode, 422, res.body);
      const body = res.json<{ code: string; errors: { path: string; message: string }[] }>();
      assert.equal(body.code, 'unsubscribe_link_unavailable');
      assert.equal(body.errors[0]?.path, '/content/email');
      assert.match(body.errors[0].message, why);
    }
    assert.deepEqual(await h.herald.events.readAll({ fromPosition: head, filter: { eventTypes: ['NotificationRequested'] } }), [], 'nothing requested');
  });
});
