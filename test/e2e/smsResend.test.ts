import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { signedByTwilio } from '../support/twilioSign.ts';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilioServer.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { providerEventsStream } from '../../src/domain/providerEvents.ts';

type Entry = { type: string; attempt?: number; reason?: string; retryAt?: string; providerMessageId?: string; deliveries?: { providerMessageId: string }[] };
type Doc = { id: string; status: string; delivered?: boolean; events: Entry[] };

const ACCOUNT_SID = `AC${'b'.repeat(32)}`;
const AUTH_TOKEN = 'e'.repeat(32);
const PUBLIC_URL = 'https://herald.test';
const STATUS = '/v1/webhooks/twilio/status';

describe('an SMS Twilio reports undelivered for a passing reason is sent again (real SDK, fake Twilio)', () => {
  let fake: FakeTwilio;
  let h: Awaited<ReturnType<typeof startTestHerald>>;

  before(async () => {
    fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, password: AUTH_TOKEN });
    h = await startTestHerald({
      HERALD_WORKER_THREAD: 'off', HERALD_PUBLIC_URL: PUBLIC_URL,
      HERALD_TWILIO_ACCOUNT_SID: ACCOUNT_SID, HERALD_TWILIO_AUTH_TOKEN: AUTH_TOKEN, HERALD_TWILIO_FROM: '+15005550006', HERALD_TWILIO_BASE_URL: fake.baseUrl,
      // Retries come due within about 100 ms, so the test does not wait out the real backoff.
      HERALD_RETRY_BASE_DELAY_MS: '100', HERALD_RESEND_DELAY_MS: '100',
    });
  });
  after(async () => {
    await h.close();
    await fake.close();
  });

  const user = async (userId: string, phone: string) => {
    const res = await h.app.inject({ method: 'PUT', url: `/v1/users/${userId}`, headers: auth, payload: { phone } });
    assert.equal(res.statusCode, 200, res.body);
  };
  /** Sends an SMS and waits until Twilio has it and its SID is mapped (provider_messages). */
  const send = async (userId: string, body: string) => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId }], channels: ['sms'], category: 'news', content: { sms: { body } } } });
    assert.equal(res.statusCode, 202, res.body);
    const id = res.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
    const sid = await mapped(body, 1);
    return { id, sid };
  };
  const atTwilio = (body: string) => fake.requests.filter((r) => r.sid && r.body === body);
  const mapped = async (body: string, count: number) => {
    const sid = await eventually(8000, `SMS ${count} of "${body}" at Twilio`, async () => atTwilio(body)[count - 1]?.sid);
    await eventually(5000, `${sid} mapped`, async () => ((await h.herald.readModels.find('provider_messages', { where: { providerMessageId: sid } })).length > 0 ? true : undefined));
    return sid;
  };
  const callback = async (fields: Record<string, string>) => {
    const params = new URLSearchParams(fields);
    const res = await h.app.inject({ method: 'POST', url: STATUS, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signedByTwilio(AUTH_TOKEN, `${PUBLIC_URL}${STATUS}`, params) }, payload: params.toString() });
    assert.equal(res.statusCode, 200, res.body);
    return res;
  };
  const get = async (id: string) => (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<Doc>();
  const until = (id: string, what: string, check: (d: Doc) => boolean) => eventually(8000, `${id} ${what}`, async () => {
    const doc = await get(id);
    return check(doc) ? doc : undefined;
  });
  const of = (doc: Doc, type: string) => doc.events.filter((e) => e.type === type);

  it('30003 (handset off): the SMS goes out again as attempt 2, its own SID is mapped, and /metrics counts it', async () => {
    await user('u-off', '+14155550101');
    const { id, sid } = await send('u-off', 'handset off');
    await callback({ MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30003', To: '+14155550101' });
    const second = await mapped('handset off', 2);
    assert.notEqual(second, sid);
    assert.equal(atTwilio('handset off')[1]!.to, '+14155550101');
    const doc = await until(id, 'sent twice', (d) => of(d, 'NotificationSent').length === 2);
    const [report] = of(doc, 'MessageUndelivered');
    assert.deepEqual([report?.attempt, report?.reason, report?.providerMessageId, typeof report?.retryAt], [1, 'twilio_30003', sid, 'string']);
    assert.deepEqual(of(doc, 'NotificationSent').map((e) => [e.attempt, e.deliveries?.[0]?.providerMessageId]), [[1, sid], [2, second]]);
    assert.equal(of(doc, 'NotificationUndelivered').length, 1, 'the report is on the timeline too');
    // The resend's own callbacks are attributed to the notification.
    const delivered = await callback({ MessageSid: second, MessageStatus: 'delivered', To: '+14155550101' });
    assert.equal(delivered.json<{ recorded: number }>().recorded, 1);
    assert.equal((await until(id, 'delivered', (d) => d.delivered === true)).status, 'sent');
    const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /herald_deliveries_total\{route="sms",provider="twilio",outcome="undelivered_retrying"\} [1-9]/);
  });

  it('a repeated callback (retried, then `failed` for the same message) sends it again once; a report on the older message none', async () => {
    await user('u-dup', '+14155550102');
    const { id, sid } = await send('u-dup', 'twice reported');
    const fields = { MessageSid: sid, ErrorCode: '30008', To: '+14155550102' };
    await Promise.all([callback({ ...fields, MessageStatus: 'undelivered' }), callback({ ...fields, MessageStatus: 'undelivered' }), callback({ ...fields, MessageStatus: 'failed' })]);
    await mapped('twice reported', 2);
    await callback({ ...fields, MessageStatus: 'failed' });
    await sleep(1000);
    assert.equal(atTwilio('twice reported').length, 2);
    const doc = await get(id);
    assert.equal(of(doc, 'MessageUndelivered').length, 1);
    assert.equal(of(doc, 'NotificationSent').length, 2);
  });

  it('a permanent code (30007 filtered) is only recorded; an opt-out made meanwhile sends none and gives up', async () => {
    await user('u-filtered', '+14155550103');
    const filtered = await send('u-filtered', 'filtered');
    await callback({ MessageSid: filtered.sid, MessageStatus: 'undelivered', ErrorCode: '30007', To: '+14155550103' });
    await user('u-stop', '+14155550104');
    const stopped = await send('u-stop', 'opted out meanwhile');
    const prefs = await h.app.inject({ method: 'PATCH', url: '/v1/users/u-stop/preferences', headers: auth, payload: { channels: { sms: false } } });
    assert.equal(prefs.statusCode, 200, prefs.body);
    await callback({ MessageSid: stopped.sid, MessageStatus: 'undelivered', ErrorCode: '30003', To: '+14155550104' });
    const doc = await until(stopped.id, 'given up', (d) => of(d, 'MessageUndelivered').some((e) => e.retryAt === undefined));
    assert.deepEqual(of(doc, 'MessageUndelivered').map((e) => [e.attempt, e.reason, e.retryAt === undefined]), [[1, 'twilio_30003', false], [2, 'channel_opted_out', true]]);
    await sleep(500);
    assert.equal(atTwilio('opted out meanwhile').length, 1);
    assert.equal(atTwilio('filtered').length, 1);
    const filteredDoc = await get(filtered.id);
    assert.equal(of(filteredDoc, 'NotificationUndelivered').length, 1);
    assert.equal(of(filteredDoc, 'MessageUndelivered').length, 0);
  });

  it('a report matched later by an operator (POST /v1/tracking/unmatched/retry) is resent under the same policy and counted; one matched over an hour late is given up', async () => {
    const unmatched = async (sid: string, at: string) => {
      const fact = { source: 'twilio', providerEventId: `${sid}:undelivered`, kind: 'undelivered', reason: 'twilio_30003' };
      await h.herald.events.append(providerEventsStream('twilio'), [encodeEvent({ type: 'ProviderEventUnmatched', data: { provider: 'twilio', providerMessageId: sid, fact, to: '***0105', at } } as never)], 'any');
    };
    const retry = async () => {
      const res = await h.app.inject({ method: 'POST', url: '/v1/tracking/unmatched/retry', headers: auth, payload: { provider: 'twilio' } });
      assert.equal(res.statusCode, 200, res.body);
    };
    const retrying = async () => Number(/herald_deliveries_total\{route="sms",provider="twilio",outcome="undelivered_retrying"\} (\d+)/.exec((await h.app.inject({ method: 'GET', url: '/metrics' })).body)?.[1] ?? 0);
    await user('u-late', '+14155550105');
    const recent = await send('u-late', 'matched by an operator');
    const before = await retrying();
    await unmatched(recent.sid, new Date().toISOString());
    await retry();
    await mapped('matched by an operator', 2);
    assert.equal(await retrying(), before + 1);
    const old = await send('u-late', 'matched a week late');
    await unmatched(old.sid, new Date(Date.now() - 7 * 24 * 60 * 60_000).toISOString());
    await retry();
    const doc = await until(old.id, 'given up', (d) => of(d, 'MessageUndelivered').length > 0);
    assert.deepEqual(of(doc, 'MessageUndelivered').map((e) => [e.attempt, e.reason, e.retryAt]), [[1, 'twilio_30003', undefined]]);
    await sleep(500);
    assert.equal(atTwilio('matched a week late').length, 1);
  });
});
