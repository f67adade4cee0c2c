/**
 * A delivery that waited its turn behind the route's rate limit is checked again before it goes
 * out: through the real Twilio adapter against its fake, at one SMS every four seconds, a
 * notification cancelled, opted out of or expired while its job waited is not sent, and what the
 * domain needs is recorded; the ones still wanted go out, each once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTwilioProvider } from '../../src/adapters/providers/twilio/index.ts';
import { createLogger } from '../../src/logger.ts';
import { deliveryGroup } from '../../src/processors/deliveryGroups.ts';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilioServer.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';

const ACCOUNT_SID = `AC${'b'.repeat(32)}`;
const AUTH_TOKEN = 'e'.repeat(32);
const phones = { first: '+14155550201', cancelled: '+14155550202', optedOut: '+14155550203', expiring: '+14155550204', wanted: '+14155550205' } as const;
type Who = keyof typeof phones;

describe('a delivery that waited for its turn at the route\'s rate', () => {
  let twilio: FakeTwilio;
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  // The service's clock, moved on an hour once the jobs wait: expiry is read from it, the rate limiter is not.
  let skewMs = 0;
  const now = () => new Date(Date.now() + skewMs);

  const send = async (who: Who, extra: object = {}) => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: who }], channels: ['sms'], category: 'orders', content: { sms: { body: `Hello ${who}` } }, ...extra } });
    assert.equal(res.statusCode, 202, res.body);
    return res.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
  };
  const stream = async (id: string) => (await h.herald.events.readStream(`notification-${id}`)).map((e) => [e.type, e.data.reason ?? null]);
  const texted = () => twilio.requests.map((r) => r.to);

  before(async () => {
    twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, password: AUTH_TOKEN });
    const sms = createTwilioProvider({ accountSid: ACCOUNT_SID, auth: { kind: 'authToken', authToken: AUTH_TOKEN }, sender: { kind: 'from', from: '+15005550006' }, statusCallbackUrl: undefined, baseUrl: twilio.baseUrl, ratePerSecond: 0.25, timeoutMs: 2000 }, createLogger('silent'));
    h = await startTestHerald({}, { providers: { sms }, now });
    for (const [userId, phone] of Object.entries(phones)) {
      const res = await h.app.inject({ method: 'PUT', url: `/v1/users/${userId}`, headers: auth, payload: { phone, timezone: 'UTC' } });
      assert.equal(res.statusCode, 200, res.body);
    }
  });
  after(async () => {
    await h.close();
    await twilio.close();
  });

  it('is not sent once cancelled, opted out of or expired meanwhile; the rest go out once each', async () => {
    const first = await send('first');
    // The first text takes the route's only token: every later one waits about four seconds.
    await eventually(5000, 'the first text at Twilio', () => (texted().length === 1 ? true : undefined));
    const cancelled = await send('cancelled');
    const optedOut = await send('optedOut');
    const expiring = await send('expiring', { expiresAt: new Date(Date.now() + 30 * 60_000).toISOString() });
    const wanted = await send('wanted');
    // All four taken by the worker, planned (their streams read) and waiting for the limiter.
    const group = deliveryGroup('sms');
    await eventually(3000, 'four deliveries held', async () => ((await h.herald.events.persistentSubscriptionInfo(group)).inFlight === 4 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(texted(), [phones.first], 'nothing more sent yet: the rest wait their turn');

    const cancel = await h.app.inject({ method: 'DELETE', url: `/v1/notifications/${cancelled}`, headers: auth });
    assert.equal(cancel.statusCode, 200, cancel.body);
    const optOut = await h.app.inject({ method: 'PATCH', url: '/v1/users/optedOut/preferences', headers: auth, payload: { channels: { sms: false } } });
    assert.equal(optOut.statusCode, 200, optOut.body);
    skewMs = 60 * 60_000;

    await eventually(20_000, 'the wanted text recorded sent', async () => ((await stream(wanted)).some(([type]) => type === 'NotificationSent') ? true : undefined));
    await eventually(5000, 'every delivery settled and acked', async () => ((await h.herald.events.persistentSubscriptionInfo(group)).inFlight === 0 ? true : undefined));
    assert.deepEqual(texted(), [phones.first, phones.wanted], 'only the first and the still wanted one reached Twilio');
    assert.deepEqual(await stream(first), [['NotificationRequested', null], ['NotificationSent', null]]);
    assert.deepEqual(await stream(cancelled), [['NotificationRequested', null], ['NotificationCancelled', null]]);
    assert.deepEqual(await stream(optedOut), [['NotificationRequested', null], ['NotificationSuppressed', 'channel_opted_out']]);
    assert.deepEqual(await stream(expiring), [['NotificationRequested', null], ['NotificationSuppressed', 'expired']]);
    const statuses = await Promise.all([cancelled, optedOut, expiring, wanted].map(async (id) => (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<{ status: string }>().status));
    assert.deepEqual(statuses, ['cancelled', 'suppressed', 'suppressed', 'sent']);
  });
});
