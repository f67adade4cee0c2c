import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signLinkToken } from '../../src/tracking/linkToken.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { logStream } from '../support/logLines.ts';
import type { Harness } from './helpers.ts';

/** Product rule: no secret and no whole contact detail in a log line or an error body, whatever the client sent. */
const TRACKING_SECRET = 'tracking-secret-0123456789abcdefghijklmnop';

describe('secrets and contact details in a request reach neither the log nor a problem body', () => {
  let h: Harness;
  const log = logStream();
  /** Every log line and the response body that hold `text`. */
  const holding = (text: string, body = '') => [...log.lines, body].filter((l) => l.includes(text));

  before(async () => {
    h = await startTestHerald({ HERALD_TRACKING_SECRET: TRACKING_SECRET }, {}, log.stream);
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { email: 'ada@example.com' } });
  });
  after(async () => {
    await h.close();
  });

  it('a device token after a doubled slash (…/devices//<token>), in the 404 and the request line', async () => {
    const token = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
    await h.app.inject({ method: 'POST', url: '/v1/users/u-1/devices', headers: auth, payload: { platform: 'ios', token } });
    for (const url of [`/v1/users/u-1/devices//${token}`, `/v1/users/u-1/devices/${token}/`, `/v1/users/u-1//devices/${token}`, `/v1/users/u-1/devices%2F${token}`]) {
      const res = await h.app.inject({ method: 'DELETE', url, headers: auth });
      assert.equal(res.statusCode, 404, url);
      assert.deepEqual(holding(token, res.body), [], url);
    }
    assert.equal(log.lines.filter((l) => l.includes('/devices/')).length > 0, true, 'the requests were logged');
  });

  it('a percent-encoded email address or phone number in a path segment that does not decode (a stray %)', async () => {
    const urls = [
      ['/v1/users/ada.lovelace%40example.com%E0', 'lovelace'],
      ['/v1/users/%2B1%20415%20555%200123%E0', '555%200123'],
      ['/v1/users/ada.lovelace%40example.com%zz/preferences', 'lovelace'],
      ['/v1/users/415.555.0123%E0', '555.01'],
      ['/v1/users/(415)%20555-0123%E0', '555-01'],
    ] as const;
    for (const [url, address] of urls) {
      const res = await h.app.inject({ method: 'GET', url, headers: auth });
      assert.equal(res.statusCode, 400, url);
      assert.equal(res.json<{ code: string }>().code, 'invalid_url');
      assert.deepEqual(holding(address, res.body), [], url);
    }
    assert.equal(log.lines.filter((l) => l.includes('"/v1/users/a***@e***.com%E0"')).length > 0, true, 'the request was logged, masked');
  });

  it('a query parameter named with an email address or a phone number', async () => {
    for (const [query, address] of [['ada.lovelace@example.com', 'lovelace'], ['limit=5&%2B14155550123=1', '4155550123'], ['ada.lovelace%40example.com', 'lovelace']] as const) {
      const res = await h.app.inject({ method: 'GET', url: `/v1/users/u-1/notifications?${query}`, headers: auth });
      assert.equal(res.statusCode, 422, res.body);
      assert.match(res.body, /unknown query parameter/);
      assert.deepEqual(holding(address, res.body), [], query);
    }
    assert.equal(log.lines.filter((l) => l.includes('"/v1/users/u-1/notifications?limit=…&…"')).length > 0, true, 'the request was logged, masked');
  });

  it('a record key that is an email address or a phone number, in a validation error\'s detail and errors[].path', async () => {
    const requests: [method: 'PUT' | 'PATCH' | 'POST', url: string, payload: object, path: string][] = [
      ['PATCH', '/v1/users/u-1/preferences', { categories: { 'ada.lovelace@example.com': true } }, '/categories/a***@e***.com'],
      ['PUT', '/v1/users/u-1/preferences', { categories: { '+1 (415) 555-0123': true } }, '/categories/+14******23'],
      ['POST', '/v1/notifications', { to: [{ userId: 'u-1' }], category: 'c', content: { push: { title: 't', body: 'b', data: { 'ada.lovelace@example.com': 5 } } } }, '/content/push/data/a***@e***.com'],
    ];
    for (const [method, url, payload, path] of requests) {
      const res = await h.app.inject({ method, url, headers: auth, payload });
      assert.equal(res.statusCode, 422, res.body);
      const problem = res.json<{ code: string; detail: string; errors: { path: string }[] }>();
      assert.equal(problem.code, 'validation_failed');
      assert.deepEqual(problem.errors.map((e) => e.path), [path], 'the path still says where');
      assert.ok(problem.detail.startsWith(`body${path}: `), problem.detail);
      assert.deepEqual([...holding('lovelace', res.body), ...holding('555-0123', res.body)], [], res.body);
    }
  });

  it('the token of a tracking link: the click\'s destination (with an address in it), the unsubscribe credential, the pixel', async () => {
    const sent = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['email'], category: 'news', content: { email: { subject: 's', text: 't' } } } });
    const notificationId = sent.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
    const sign = (token: Parameters<typeof signLinkToken>[1]) => signLinkToken(Buffer.from(TRACKING_SECRET), token);
    const click = sign({ kind: 'click', notificationId, url: 'https://shop.example/account?email=ada.lovelace@example.com' });
    const unsubscribe = sign({ kind: 'unsubscribe', notificationId });
    const requests: [method: 'GET' | 'POST', url: string, status: number][] = [
      ['GET', `/t/c/${click}`, 302],
      ['GET', `/t/o/${click}`, 404], // the wrong kind: a problem whose instance is the path
      ['GET', `/t/o/${sign({ kind: 'open', notificationId })}`, 200],
      ['GET', `/t/u/${unsubscribe}`, 200],
      ['POST', `/t/u/${unsubscribe}/x`, 404],
      ['POST', `/t/u/${sign({ kind: 'unsubscribe', notificationId: '00000000-0000-7000-8000-000000000000' })}`, 404],
    ];
    for (const [method, url, status] of requests) {
      const res = await h.app.inject({ method, url });
      assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
      const [body = '', mac = ''] = url.split('/')[3]!.split('.');
      assert.deepEqual([...holding(body, res.body), ...holding(mac, res.body)], [], url);
    }
    assert.equal(log.lines.filter((l) => l.includes('"/t/')).length >= requests.length, true, 'the requests were logged');
  });
});
