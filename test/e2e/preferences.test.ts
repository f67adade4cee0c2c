import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';

type Sent = { notifications: { id: string; channel: string; status: string }[] };
type Doc = { status: string; sendAt?: string; events: { type: string; reason?: string; heldFor?: string; until?: string; attempt?: number }[] };

describe('whether, when and where to send: preferences, categories, rate windows', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  // The test's clock: it starts at 23:30 UTC and can jump forward.
  const base = Date.parse('2026-11-23T23:30:00.000Z') - Date.now();
  let jump = 0;
  const now = () => new Date(Date.now() + base + jump);

  const put = (url: string, payload: object) => h.app.inject({ method: 'PUT', url, headers: auth, payload });
  const send = async (userId: string, category: string, channels: string[]) => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId }], channels, category, content: { sms: { body: 'hi' }, email: { subject: 'hi', text: 'hi' }, push: { title: 'hi', body: 'hi' } } } });
    assert.equal(res.statusCode, 202, res.body);
    return res.json<Sent>().notifications;
  };
  const get = async (id: string) => (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<Doc>();

  before(async () => {
    h = await startTestHerald({ HERALD_SCHEDULER_TICK_MS: '20' }, { now });
    for (const u of ['ann', 'bob', 'cat', 'dan']) await put(`/v1/users/${u}`, { email: `${u}@example.com`, phone: '+14155550123', timezone: 'UTC' });
    await put('/v1/categories/promo', { marketing: true });
    await put('/v1/categories/password-reset', { transactional: true });
    await put('/v1/categories/digest', { rateLimit: { max: 3, windowSeconds: 3600, window: 'sliding', overLimit: 'suppress' } });
    await put('/v1/categories/reminder', { rateLimit: { max: 1, windowSeconds: 3600, window: 'fixed', overLimit: 'defer' } });
  });
  after(async () => {
    await h.close();
  });

  it('refuses a patch that would hold more than 1,000 category choices: 422 naming the field, nothing recorded', async () => {
    const categories = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`topic-${i}`, false]));
    const res = await h.app.inject({ method: 'PATCH', url: '/v1/users/dan/preferences', headers: auth, payload: { categories } });
    assert.equal(res.statusCode, 422, res.body);
    assert.equal(res.json<{ code: string }>().code, 'too_many_category_choices');
    assert.deepEqual(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path), ['/categories']);
    const got = await h.app.inject({ method: 'GET', url: '/v1/users/dan/preferences', headers: auth });
    assert.deepEqual(got.json<{ categories: object }>().categories, {});
  });

  it('reads and replaces preferences', async () => {
    const res = await put('/v1/users/ann/preferences', { channels: { sms: false }, categories: { news: false }, marketing: false });
    assert.equal(res.statusCode, 200, res.body);
    const got = await h.app.inject({ method: 'GET', url: '/v1/users/ann/preferences', headers: auth });
    assert.deepEqual(got.json(), { userId: 'ann', timezone: 'UTC', channels: { sms: false }, categories: { news: false }, categoryChannels: {}, marketing: false, quietHours: null });
    const bad = await put('/v1/users/ann/preferences', { quietHours: { start: '25:00', end: '07:00' } });
    assert.equal(bad.statusCode, 422);
  });

  it('refuses quiet hours whose end equals their start (no length), naming the field and what to send instead', async () => {
    for (const [method, body] of [['PUT', { quietHours: { start: '22:00', end: '22:00' } }], ['PATCH', { quietHours: { start: '00:00', end: '00:00' } }]] as const) {
      const res = await h.app.inject({ method, url: '/v1/users/ann/preferences', headers: auth, payload: body });
      assert.equal(res.statusCode, 422, method);
      const problem = res.json<{ errors: { path: string; message: string }[] }>();
      assert.deepEqual(problem.errors.map((e) => e.path), ['/quietHours/end']);
      assert.match(problem.errors[0]!.message, /send null for no quiet hours/);
    }
  });

  it('PATCH changes only what it names (null clears a choice), and concurrent changes all apply', async () => {
    const patch = (body: object, type = 'application/json') => h.app.inject({ method: 'PATCH', url: '/v1/users/dan/preferences', headers: { ...auth, 'content-type': type }, payload: JSON.stringify(body) });
    const first = await patch({ channels: { sms: false }, quietHours: { start: '22:00', end: '07:00' } });
    assert.equal(first.statusCode, 200, first.body);
    const second = await patch({ categoryChannels: { digest: { email: false } }, marketing: false }, 'application/merge-patch+json');
    assert.equal(second.statusCode, 200, second.body);
    assert.deepEqual(second.json(), { userId: 'dan', timezone: 'UTC', channels: { sms: false }, categories: {}, categoryChannels: { digest: { email: false } }, marketing: false, quietHours: { start: '22:00', end: '07:00' } });
    // Ten settings pages flip ten different switches at once: a read-then-PUT would keep only one.
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => patch({ categories: { [`topic-${i}`]: false } })));
    for (const res of answers) assert.equal(res.statusCode, 200, res.body);
    const after = await patch({ channels: { sms: null }, categoryChannels: { digest: null }, quietHours: null, marketing: true });
    const prefs = after.json<{ channels: object; categories: Record<string, boolean>; categoryChannels: object; quietHours: unknown }>();
    assert.deepEqual(Object.keys(prefs.categories).sort(), Array.from({ length: 10 }, (_, i) => `topic-${i}`).sort());
    assert.deepEqual([prefs.channels, prefs.categoryChannels, prefs.quietHours], [{}, {}, null], 'null cleared each back to its default');
    const bad = await patch({ channels: { fax: false } });
    assert.equal(bad.statusCode, 422);
    await put('/v1/users/dan/preferences', {});
  });

  it('an opted-out channel, category or marketing ends suppressed with its reason; a transactional category ignores all but the channel opt-out', async () => {
    const [sms, email] = await send('ann', 'orders', ['sms', 'email']);
    assert.equal(sms?.status, 'suppressed');
    assert.equal(email?.status, 'requested');
    assert.deepEqual((await get(sms.id)).events.map((e) => e.reason ?? e.type), ['NotificationRequested', 'channel_opted_out']);
    const [newsEmail] = await send('ann', 'news', ['email']);
    assert.equal((await get(newsEmail!.id)).events.at(-1)?.reason, 'category_opted_out');
    const [promoEmail] = await send('ann', 'promo', ['email']);
    assert.equal((await get(promoEmail!.id)).events.at(-1)?.reason, 'marketing_unsubscribed');
    const [resetSms, resetEmail] = await send('ann', 'password-reset', ['sms', 'email']);
    assert.equal(resetSms?.status, 'suppressed', 'never against a channel opt-out');
    assert.equal(resetEmail?.status, 'requested');
    await eventually(5000, 'the allowed ones sent', async () => ((await get(resetEmail.id)).status === 'sent' && (await get(email.id)).status === 'sent' ? true : undefined));
  });

  it('quiet hours hold a notification until they end, across a restart, then deliver it', async () => {
    await put('/v1/users/bob/preferences', { quietHours: { start: '22:00', end: '07:00' } });
    const [n] = await send('bob', 'news', ['email']);
    assert.equal(n?.status, 'scheduled');
    const held = await get(n.id);
    assert.equal(held.sendAt, '2026-11-24T07:00:00.000Z');
    assert.equal(held.events[0]?.heldFor, 'quiet_hours');
    const [urgent] = await send('bob', 'password-reset', ['email']);
    assert.equal(urgent?.status, 'requested', 'transactional ignores quiet hours');
    await h.restart();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await get(n.id)).status, 'scheduled');
    jump = 7.5 * 3600_000;
    await eventually(5000, 'delivered after quiet hours', async () => ((await get(n.id)).status === 'sent' ? true : undefined));
  });

  it('a rate limit under 50 concurrent sends to one user lets exactly N through', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => send('cat', 'digest', ['email'])));
    const statuses = results.map((r) => r[0]!.status);
    assert.equal(statuses.filter((s) => s === 'requested').length, 3);
    assert.equal(statuses.filter((s) => s === 'suppressed').length, 47);
    const suppressed = results.find((r) => r[0]!.status === 'suppressed')![0]!;
    assert.equal((await get(suppressed.id)).events.at(-1)?.reason, 'rate_limited');
  });

  it('over a limit that defers, the notification waits for the next window', async () => {
    const [first] = await send('dan', 'reminder', ['push', 'email']);
    const [second] = await send('dan', 'reminder', ['email']);
    assert.equal(first?.status, 'suppressed', 'dan has no device: push has no address');
    assert.equal(second?.status, 'scheduled');
    const doc = await get(second.id);
    assert.equal(doc.events[0]?.heldFor, 'rate_limited');
    assert.ok(doc.sendAt && Date.parse(doc.sendAt) > now().getTime(), 'held for the next window');
  });

  it('cancelling a held notification gives its slot back: the next send takes it, not the window after, and the read model counts one', async () => {
    await put('/v1/users/eve', { email: 'eve@example.com', timezone: 'UTC' });
    const [first] = await send('eve', 'reminder', ['email']);
    const [held] = await send('eve', 'reminder', ['email']);
    assert.deepEqual([first?.status, held?.status], ['requested', 'scheduled']);
    const cancelled = await h.app.inject({ method: 'DELETE', url: `/v1/notifications/${held!.id}`, headers: auth });
    assert.equal(cancelled.statusCode, 200, cancelled.body);
    const [next] = await send('eve', 'reminder', ['email']);
    assert.equal(next?.status, 'scheduled', 'the first, sent, still holds this window\'s slot');
    const nextDoc = await get(next.id);
    assert.equal(nextDoc.sendAt, (await get(held!.id)).sendAt, 'the cancelled one\'s slot in the next window, not the window after');
    const windows = async () => (await h.herald.readModels.find('rate_windows', { where: { userId: 'eve' } })).map((d) => (d.doc as { count: number }).count);
    await eventually(5000, 'rate_windows: one slot in each window', async () => ((await windows()).join() === '1,1' ? true : undefined));
  });

  it('quiet hours set after a send was scheduled hold it when it comes due, until they end; a transactional one goes', async () => {
    await put('/v1/users/gus', { email: 'gus@example.com', timezone: 'UTC' });
    const inOneHour = new Date(now().getTime() + 3600_000);
    const sendAt = inOneHour.toISOString();
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    const schedule = async (category: string) => {
      const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'gus' }], channels: ['email'], category, sendAt, content: { email: { subject: 'hi', text: 'hi' } } } });
      assert.equal(res.statusCode, 202, res.body);
      return res.json<Sent>().notifications[0]!;
    };
    const [news, reset] = [await schedule('news'), await schedule('password-reset')];
    assert.deepEqual([news.status, reset.status], ['scheduled', 'scheduled']);
    // After the request: quiet from 30 minutes before the send until an hour after it.
    const quietEnd = inOneHour.getTime() + 3600_000;
    await put('/v1/users/gus/preferences', { quietHours: { start: hhmm(inOneHour.getTime() - 1800_000), end: hhmm(quietEnd) } });
    jump += 3600_000 + 60_000;
    await eventually(5000, 'the transactional one sent when due', async () => ((await get(reset.id)).status === 'sent' ? true : undefined));
    await eventually(5000, 'the other held when due', async () => ((await get(news.id)).events.some((e) => e.type === 'DeliveryHeld') ? true : undefined));
    const held = await get(news.id);
    assert.equal(held.status, 'scheduled');
    const hold = held.events.find((e) => e.type === 'DeliveryHeld');
    assert.deepEqual(hold && [hold.until, hold.reason, hold.attempt], [new Date(quietEnd - (quietEnd % 60_000)).toISOString(), 'quiet_hours', 1]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await get(news.id)).status, 'scheduled', 'still held: nothing sent inside the quiet hours');
    jump += 3600_000;
    await eventually(5000, 'delivered once the quiet hours end', async () => ((await get(news.id)).status === 'sent' ? true : undefined));
    assert.deepEqual((await get(news.id)).events.map((e) => e.type), ['NotificationRequested', 'DeliveryDue', 'DeliveryHeld', 'DeliveryDue', 'NotificationSent']);
  });
});

describe('HERALD_USER_RATE_LIMIT_MAX: at most N notifications per user over every category', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  before(async () => {
    h = await startTestHerald({ HERALD_USER_RATE_LIMIT_MAX: '2', HERALD_USER_RATE_LIMIT_WINDOW_SECONDS: '3600' });
    await h.app.inject({ method: 'PUT', url: '/v1/users/ann', headers: auth, payload: { phone: '+14155550123' } });
  });
  after(async () => {
    await h.close();
  });

  it('suppresses the third send to a user, whatever its category', async () => {
    const statuses: string[] = [];
    for (const category of ['news', 'orders', 'tips']) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'ann' }], channels: ['sms'], category, content: { sms: { body: category } } } });
      assert.equal(res.statusCode, 202, res.body);
      statuses.push(res.json<Sent>().notifications[0]!.status);
    }
    assert.deepEqual(statuses, ['requested', 'requested', 'suppressed']);
  });
});

describe('a choice the user makes after the request, before the delivery', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  const send = async (body: Record<string, unknown>) => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'fay' }], channels: ['email'], content: { email: { subject: 's', text: 't' } }, ...body } });
    assert.equal(res.statusCode, 202, res.body);
    return res.json<Sent>().notifications[0]!;
  };
  const get = async (id: string) => (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<Doc>();
  before(async () => {
    h = await startTestHerald({ HERALD_SCHEDULER_TICK_MS: '20' });
    await h.app.inject({ method: 'PUT', url: '/v1/users/fay', headers: auth, payload: { email: 'fay@example.com' } });
    await h.app.inject({ method: 'PUT', url: '/v1/categories/weekly', headers: auth, payload: { marketing: true, rateLimit: { max: 5, windowSeconds: 604_800, window: 'sliding', overLimit: 'suppress' } } });
    await h.app.inject({ method: 'PUT', url: '/v1/categories/login-code', headers: auth, payload: { transactional: true } });
  });
  after(async () => {
    await h.close();
  });

  it('is honoured: a scheduled send the user has since opted out of ends suppressed, unsent; other ones go', async () => {
    const soon = () => new Date(Date.now() + 3000).toISOString(); // time enough to change the preferences first, under load too
    const digest = await send({ category: 'weekly', sendAt: soon() });
    const news = await send({ category: 'news', sendAt: soon() });
    const code = await send({ category: 'login-code', sendAt: soon() });
    const kept = await send({ category: 'orders', sendAt: soon() });
    for (const n of [digest, news, code, kept]) assert.equal(n.status, 'scheduled');
    const prefs = await h.app.inject({ method: 'PUT', url: '/v1/users/fay/preferences', headers: auth, payload: { marketing: false, categories: { news: false, 'login-code': false } } });
    assert.equal(prefs.statusCode, 200, prefs.body);
    await eventually(10_000, 'all four settled', async () => ((await Promise.all([digest, news, code, kept].map(async (n) => (await get(n.id)).status))).every((s) => s !== 'scheduled' && s !== 'requested') ? true : undefined));
    assert.deepEqual([(await get(digest.id)).status, (await get(digest.id)).events.at(-1)?.reason], ['suppressed', 'marketing_unsubscribed']);
    assert.deepEqual([(await get(news.id)).status, (await get(news.id)).events.at(-1)?.reason], ['suppressed', 'category_opted_out']);
    assert.equal((await get(code.id)).status, 'sent', 'a transactional category ignores a category opt-out, then as now');
    assert.equal((await get(kept.id)).status, 'sent');
    const outbox = await h.outbox();
    assert.deepEqual(outbox.filter((l) => [digest.id, news.id].includes(l.notificationId)), [], 'nothing sent for the ones opted out of');
    const released = await h.herald.events.readAll({ filter: { eventTypes: ['RateSlotReleased'] } });
    assert.deepEqual(released.map((e) => e.data.notificationIds), [[digest.id]], 'the weekly limit no longer counts the digest that never went');
  });
});
