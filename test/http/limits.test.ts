import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { signedByTwilio } from '../support/twilioSign.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';
import { bearer, createApp, type Harness } from './helpers.ts';

describe('per-app request rate limit', () => {
  let h: Harness;
  before(async () => {
    h = await startTestHerald({ HERALD_RATE_LIMIT_PER_MINUTE: '5' });
  });
  after(async () => {
    await h.close();
  });

  it('answers the request over the limit with 429, a problem and Retry-After; other apps and probes are unaffected', async () => {
    const noisy = await createApp(h, ['read']);
    const quiet = await createApp(h, ['read']);
    const get = (token: string) => h.app.inject({ method: 'GET', url: '/v1/users/nobody', headers: bearer(token) });
    for (let i = 0; i < 5; i++) assert.equal((await get(noisy.token)).statusCode, 404);
    const limited = await get(noisy.token);
    assert.equal(limited.statusCode, 429, limited.body);
    assert.match(String(limited.headers['content-type']), /^application\/problem\+json/);
    assert.equal(limited.json<{ code: string }>().code, 'rate_limited');
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${String(limited.headers['retry-after'])}`);
    assert.equal((await get(quiet.token)).statusCode, 404, 'the limit is per app');
    for (let i = 0; i < 10; i++) assert.equal((await h.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /herald_http_rejected_total\{reason="rate_limited"\} 1/);
  });
});

describe('provider webhooks and the per-app request rate limit', () => {
  const PUBLIC_URL = 'https://herald.test';
  const TWILIO_TOKEN = 'twilio-webhook-token-0123456789';
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // Behind a load balancer every provider's callbacks come from its address.
  const LB = '10.0.0.1';
  let h: Harness;
  before(async () => {
    h = await startTestHerald({ HERALD_RATE_LIMIT_PER_MINUTE: '5', HERALD_PUBLIC_URL: PUBLIC_URL, HERALD_TWILIO_WEBHOOK_AUTH_TOKEN: TWILIO_TOKEN, HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY: publicKey.export({ format: 'der', type: 'spki' }).toString('base64') });
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { phone: '+14155550123' } });
  });
  after(async () => {
    await h.close();
  });

  const sendgrid = (i: number) => {
    const body = JSON.stringify([{ event: 'processed', email: 'ada@example.com', sg_event_id: `e${i}` }]);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = sign('sha256', Buffer.from(timestamp + body), privateKey).toString('base64');
    return h.app.inject({ method: 'POST', url: '/v1/webhooks/sendgrid', remoteAddress: LB, headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp }, payload: body });
  };
  const twilio = (path: string, fields: Record<string, string>) => {
    const params = new URLSearchParams(fields);
    return h.app.inject({ method: 'POST', url: path, remoteAddress: LB, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signedByTwilio(TWILIO_TOKEN, `${PUBLIC_URL}${path}`, params) }, payload: params.toString() });
  };

  it('never answers a provider 429: SendGrid batches, Twilio receipts and a STOP from one address all pass, while apps keep their limit', async () => {
    for (let i = 0; i < 8; i++) assert.equal((await sendgrid(i)).statusCode, 200);
    for (let i = 0; i < 8; i++) assert.equal((await twilio('/v1/webhooks/twilio/status', { MessageSid: `SMunknown${i}`, MessageStatus: 'delivered', To: '+14155550123' })).statusCode, 200);
    const stop = await twilio('/v1/webhooks/twilio/inbound', { From: '+14155550123', To: '+15005550006', Body: 'STOP', MessageSid: 'SMstop1' });
    assert.equal(stop.statusCode, 200, stop.body);
    const user = await h.app.inject({ method: 'GET', url: '/v1/users/u-1', headers: auth });
    assert.deepEqual(user.json<{ optedOut: unknown[] }>().optedOut, [{ channel: 'sms', address: '+14155550123', reason: 'stop_reply' }]);
    // Forged ones are refused by their signature, not by the limit.
    const forged = await h.app.inject({ method: 'POST', url: '/v1/webhooks/twilio/inbound', remoteAddress: LB, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'forged' }, payload: 'From=%2B14155550123&Body=START&MessageSid=SMx' });
    assert.equal(forged.statusCode, 403);
    const app = await createApp(h, ['read']);
    const get = () => h.app.inject({ method: 'GET', url: '/v1/users/nobody', remoteAddress: LB, headers: bearer(app.token) });
    for (let i = 0; i < 5; i++) assert.equal((await get()).statusCode, 404);
    assert.equal((await get()).statusCode, 429, 'the API itself is still limited');
  });
});

describe('per-app daily send quota', () => {
  let h: Harness;
  const send = { to: [{ userId: 'u-1' }], category: 'c', content: { email: { subject: 'Hi', text: 'x' } } };
  before(async () => {
    h = await startTestHerald({ HERALD_DAILY_SEND_QUOTA: '3' });
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { email: 'ada@example.com' } });
  });
  after(async () => {
    await h.close();
  });

  it('accepts notifications up to the quota, then refuses with 429 daily_quota_exceeded until midnight UTC', async () => {
    const app = await createApp(h, ['send', 'read']);
    for (let i = 0; i < 3; i++) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: bearer(app.token), payload: send });
      assert.equal(res.statusCode, 202, res.body);
    }
    const over = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: bearer(app.token), payload: send });
    assert.equal(over.statusCode, 429, over.body);
    assert.equal(over.json<{ code: string }>().code, 'daily_quota_exceeded');
    const retryAfter = Number(over.headers['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= 86_400);
    const other = await createApp(h, ['send']);
    assert.equal((await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: bearer(other.token), payload: send })).statusCode, 202, 'the quota is per app');
    assert.equal((await h.app.inject({ method: 'GET', url: '/v1/users/u-1', headers: bearer(app.token) })).statusCode, 200, 'reads do not count');

    // The count is seeded from the notification log, so a restart does not reset it.
    await eventually(3000, 'the log holds the four notifications', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/v1/users/u-1/notifications', headers: auth });
      return res.json<{ notifications: unknown[] }>().notifications.length === 4 ? true : undefined;
    });
    await h.restart();
    const after = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: bearer(app.token), payload: send });
    assert.equal(after.statusCode, 429, after.body);
  });

  it('a quota of 0 turns the quota off', async () => {
    const unlimited = await startTestHerald({ HERALD_DAILY_SEND_QUOTA: '0' });
    try {
      await unlimited.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { email: 'ada@example.com' } });
      for (let i = 0; i < 5; i++) assert.equal((await unlimited.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: send })).statusCode, 202);
    } finally {
      await unlimited.close();
    }
  });
});

describe('a client that sends its request too slowly', () => {
  let h: Harness;
  before(async () => {
    h = await startTestHerald({ HERALD_REQUEST_TIMEOUT_MS: '300' });
    await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await h.close();
  });

  it('is answered 408 and disconnected once HERALD_REQUEST_TIMEOUT_MS has passed without the whole request', async () => {
    const { port } = h.app.server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now())));
    const started = performance.now();
    // The headers promise 100 bytes of body; only 10 ever come.
    socket.write(`POST /v1/notifications HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"to": [{"`);
    const at = await closed;
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /content-type: application\/problem\+json/i);
    assert.equal((JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { code: string }).code, 'request_timeout');
    assert.ok(at - started >= 300, `closed after ${Math.round(at - started)} ms, not before the timeout`);
    assert.ok(at - started < 5_000, `closed after ${Math.round(at - started)} ms`);
    // The server goes on serving everyone else.
    assert.equal((await h.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  });
});

describe('a request that is not valid HTTP/1.1', () => {
  let h: Harness;
  before(async () => {
    h = await startTestHerald();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await h.close();
  });

  /** Writes raw bytes and reads the whole answer until the server closes the connection. */
  const raw = (request: string) =>
    new Promise<{ head: string; body: { code: string; status: number } }>((resolve, reject) => {
      const { port } = h.app.server.address() as AddressInfo;
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('error', reject);
      socket.on('close', () => {
        const split = answer.indexOf('\r\n\r\n');
        resolve({ head: answer.slice(0, split), body: JSON.parse(answer.slice(split + 4)) as { code: string; status: number } });
      });
      socket.write(request);
    });

  it('gets problem details too: a header line without a colon → 400 malformed_request, headers over 16 KB → 431', async () => {
    const noColon = await raw('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nthis line has no colon\r\n\r\n');
    assert.match(noColon.head, /^HTTP\/1\.1 400 /);
    assert.match(noColon.head, /content-type: application\/problem\+json/i);
    assert.deepEqual([noColon.body.code, noColon.body.status], ['malformed_request', 400]);
    const long = await raw(`GET /v1/users/${'u'.repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    assert.match(long.head, /^HTTP\/1\.1 431 /);
    assert.deepEqual([long.body.code, long.body.status], ['headers_too_large', 431]);
    assert.equal((await h.app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'the server goes on serving');
  });
});
