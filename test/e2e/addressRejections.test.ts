/**
 * What a provider's permanent refusal of an address does to the user: through the real Twilio
 * and SendGrid adapters against their fakes, an invalid number, a number opted out at the carrier
 * and an invalid email address are opted out on the user's stream, so the next notification is
 * suppressed instead of paying for the same refusal again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSendgridProvider } from '../../src/adapters/providers/sendgrid/index.ts';
import { createTwilioProvider } from '../../src/adapters/providers/twilio/index.ts';
import { createLogger } from '../../src/logger.ts';
import { startFakeSendgrid, type FakeSendgrid } from '../fakes/sendgridServer.ts';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilioServer.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';

const ACCOUNT_SID = `AC${'a'.repeat(32)}`;
const AUTH_TOKEN = 'f'.repeat(32);
const SENDGRID_KEY = 'SG.test-key.abcdefghijklmnopqrstuvwxyz';

describe('an address the provider refuses for good', () => {
  let twilio: FakeTwilio;
  let sendgrid: FakeSendgrid;
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  const users = { landline: '+14155550101', stopped: '+14155550102', fine: '+14155550103' } as const;

  const send = async (userId: string, channel: 'sms' | 'email') => {
    const content = channel === 'sms' ? { sms: { body: 'Your order shipped' } } : { email: { subject: 'Shipped', text: 'Your order shipped' } };
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId }], channels: [channel], category: 'orders', content } });
    assert.equal(res.statusCode, 202, res.body);
    return res.json<{ notifications: { id: string; status: string }[] }>().notifications[0]!;
  };
  const statusOf = async (id: string) => (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<{ status: string }>().status;
  const optOuts = async (userId: string) => (await h.herald.events.readStream(`user-${userId}`)).filter((e) => e.type === 'ContactOptedOut').map((e) => [e.data.channel, e.data.reason]);

  before(async () => {
    twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, password: AUTH_TOKEN });
    sendgrid = await startFakeSendgrid({ apiKey: SENDGRID_KEY });
    twilio.failRecipient(users.landline, 'not_mobile');
    twilio.failRecipient(users.stopped, 'unsubscribed');
    sendgrid.failRecipient('landline@example.com', 'invalid_address');
    const logger = createLogger('silent');
    const sms = createTwilioProvider({ accountSid: ACCOUNT_SID, auth: { kind: 'authToken', authToken: AUTH_TOKEN }, sender: { kind: 'from', from: '+15005550006' }, statusCallbackUrl: undefined, baseUrl: twilio.baseUrl, ratePerSecond: 100, timeoutMs: 2000 }, logger);
    const email = createSendgridProvider({ apiKey: SENDGRID_KEY, from: { email: 'news@herald.example' }, replyTo: undefined, baseUrl: sendgrid.baseUrl, timeoutMs: 2000 }, logger);
    h = await startTestHerald({}, { providers: { sms, email } });
    for (const [userId, phone] of Object.entries(users)) {
      const res = await h.app.inject({ method: 'PUT', url: `/v1/users/${userId}`, headers: auth, payload: { phone, email: `${userId}@example.com` } });
      assert.equal(res.statusCode, 200, res.body);
    }
  });
  after(async () => {
    await h.close();
    await twilio.close();
    await sendgrid.close();
  });

  it('opts out a number that is not mobile, a number opted out at the carrier and an invalid email address; the next notification is suppressed, the provider not asked again', async () => {
    const first = [await send('landline', 'sms'), await send('stopped', 'sms'), await send('landline', 'email'), await send('fine', 'sms')];
    for (const [i, n] of first.entries()) await eventually(8000, `notification ${i} settled`, async () => (['failed', 'sent'].includes(await statusOf(n.id)) ? true : undefined));
    assert.deepEqual(await Promise.all(first.map((n) => statusOf(n.id))), ['failed', 'failed', 'failed', 'sent']);
    assert.deepEqual(await optOuts('landline'), [['sms', 'invalid_address'], ['email', 'invalid_address']]);
    assert.deepEqual(await optOuts('stopped'), [['sms', 'carrier_opt_out']]);
    assert.deepEqual(await optOuts('fine'), []);
    const asked = { twilio: twilio.requests.length, sendgrid: sendgrid.requests.length };
    assert.deepEqual([(await send('landline', 'sms')).status, (await send('stopped', 'sms')).status, (await send('landline', 'email')).status], ['suppressed', 'suppressed', 'suppressed']);
    assert.deepEqual({ twilio: twilio.requests.length, sendgrid: sendgrid.requests.length }, asked);
  });

  it('shows the opt-outs on the user; an operator may clear a bounce or an invalid address, never what the recipient asked for', async () => {
    const user = async (userId: string) => (await h.app.inject({ method: 'GET', url: `/v1/users/${userId}`, headers: auth })).json<{ optedOut: { channel: string; address: string; reason: string }[] }>();
    assert.deepEqual((await user('landline')).optedOut, [{ channel: 'sms', address: users.landline, reason: 'invalid_address' }, { channel: 'email', address: 'landline@example.com', reason: 'invalid_address' }]);
    const clear = (userId: string, channel: string) => h.app.inject({ method: 'DELETE', url: `/v1/users/${userId}/opt-outs/${channel}`, headers: auth });
    const cleared = await clear('landline', 'email');
    assert.equal(cleared.statusCode, 200, cleared.body);
    assert.deepEqual(cleared.json<{ optedOut: { channel: string }[] }>().optedOut.map((o) => o.channel), ['sms']);
    assert.equal((await send('landline', 'email')).status, 'requested', 'sent to the provider again');
    const refused = await clear('stopped', 'sms');
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json<{ code: string }>().code, 'opt_out_by_recipient');
    assert.match(refused.json<{ detail: string }>().detail, /carrier_opt_out.*texting START/);
    assert.equal((await clear('fine', 'sms')).statusCode, 200, 'nothing to clear is no error');
    assert.equal((await clear('nobody', 'sms')).statusCode, 404);
  });
});
