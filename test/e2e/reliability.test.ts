import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DeliveryMessage, DeliveryProvider, DeliveryResult } from '../../src/ports/deliveryProvider.ts';
import { createSandboxProvider, type SandboxOptions } from '../../src/adapters/providers/sandbox/sandboxProvider.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';
import { startAlertWebhook } from '../fakes/alertWebhook.ts';
import { startFakeApns, type FakeApns } from '../fakes/apnsServer.ts';
import { startFakeFcm, type FakeFcm } from '../fakes/fcmServer.ts';
import { createApnsProvider } from '../../src/adapters/providers/apns/index.ts';
import { createFcmProvider } from '../../src/adapters/providers/fcm/index.ts';
import { createLogger } from '../../src/logger.ts';

type Doc = { id: string; status: string; events: { type: string; attempt?: number; attempts?: number; reason?: string }[] };

/** An FCM stand-in that rejects tokens starting with "dead" as unregistered, like FCM does. */
function rejectingFcm(): DeliveryProvider & { sentTo: string[] } {
  const sentTo: string[] = [];
  return {
    id: 'test-fcm', route: 'fcm', maxBatchSize: 500, limits: { concurrency: 2 }, sentTo,
    async send(messages: readonly DeliveryMessage[]): Promise<DeliveryResult[]> {
      return messages.map((m) => {
        if (m.to.startsWith('dead')) return { status: 'rejected', reason: 'unregistered_token' };
        sentTo.push(m.to);
        return { status: 'sent', providerMessageId: `fcm-${sentTo.length}` };
      });
    },
    async close() {},
  };
}

describe('nothing lost, nothing sent twice: retries, dead letters, scheduling', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  const sms: SandboxOptions = { outboxFile: '', failureRate: 1 };
  const fcm = rejectingFcm();
  let hook: Awaited<ReturnType<typeof startAlertWebhook>>;

  const send = async (payload: Record<string, unknown>) => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], category: 'c', ...payload } });
    assert.equal(res.statusCode, 202, res.body);
    return res.json<{ notifications: { id: string; status: string }[] }>().notifications[0]!;
  };
  const get = async (id: string) => (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<Doc>();
  const until = (id: string, status: string, ms = 8000) => eventually(ms, `${id} ${status}`, async () => ((await get(id)).status === status ? true : undefined));

  before(async () => {
    hook = await startAlertWebhook();
    const env = {
      HERALD_MAX_ATTEMPTS_SMS: '3', HERALD_RETRY_BASE_DELAY_MS: '20', HERALD_SCHEDULER_TICK_MS: '20',
      HERALD_DEAD_LETTER_ALERT_THRESHOLD: '1', HERALD_ALERT_CHECK_INTERVAL_MS: '100', HERALD_ALERT_WEBHOOK_URL: hook.url,
    };
    h = await startTestHerald(env, (dir) => {
      sms.outboxFile = join(dir, 'sandbox-outbox.jsonl');
      return { providers: { fcm, sms: createSandboxProvider('sms', sms) } };
    });
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { phone: '+14155550123', email: 'ada@example.com' } });
    for (const token of ['good-token-1234', 'dead-token-1234']) await h.app.inject({ method: 'POST', url: '/v1/users/u-1/devices', headers: auth, payload: { platform: 'android', token } });
  });
  after(async () => {
    await h.close();
    await hook.close();
  });

  it('retries a transient failure with backoff up to the channel maximum, then ends failed as a dead letter', async () => {
    const n = await send({ channels: ['sms'], content: { sms: { body: 'hello' } } });
    await until(n.id, 'failed');
    const doc = await get(n.id);
    assert.deepEqual(doc.events.map((e) => e.type), ['NotificationRequested', 'DeliveryAttemptFailed', 'DeliveryDue', 'DeliveryAttemptFailed', 'DeliveryDue', 'NotificationFailed']);
    assert.equal(doc.events.at(-1)?.attempts, 3);
    const dead = await eventually(3000, 'listed dead letter', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/v1/dead-letters?channel=sms', headers: auth });
      const body = res.json<{ deadLetters: { id: string; reason: string; attempts: number }[] }>();
      return body.deadLetters.find((d) => d.id === `${n.id}:sms`);
    });
    assert.equal(dead.attempts, 3);
    assert.equal(dead.reason, 'sandbox_injected_failure');
  });

  it('raises an alert to the operators\' webhook when dead letters pass the threshold', async () => {
    const alert = await eventually(5000, 'an alert POST', () => hook.posts[0]);
    assert.equal((alert as { alert: string }).alert, 'dead_letters_over_threshold');
  });

  it('redrives a dead letter once the provider works again', async () => {
    const list = await h.app.inject({ method: 'GET', url: '/v1/dead-letters?route=sms', headers: auth });
    const id = list.json<{ deadLetters: { id: string; notificationId: string }[] }>().deadLetters[0]!;
    // An id that names no notification: 404 with the ids, and the rest of the request not carried out.
    const ghost = '00000000-0000-4000-8000-000000000000';
    const refused = await h.app.inject({ method: 'POST', url: '/v1/dead-letters/redrive', headers: auth, payload: { ids: [id.id, `${ghost}:sms`] } });
    assert.equal(refused.statusCode, 404, refused.body);
    assert.equal(refused.json<{ code: string }>().code, 'notification_not_found');
    assert.deepEqual(refused.json<{ notificationIds: string[] }>().notificationIds, [ghost]);
    assert.equal((await h.app.inject({ method: 'POST', url: `/v1/dead-letters/${ghost}:sms/redrive`, headers: auth })).statusCode, 404);
    assert.equal((await get(id.notificationId)).events.filter((e) => e.type === 'DeliveryRedriven').length, 0, 'nothing of the refused request was redriven');
    sms.failureRate = 0;
    const res = await h.app.inject({ method: 'POST', url: '/v1/dead-letters/redrive', headers: auth, payload: { ids: [id.id] } });
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.json<{ redriven: number }>().redriven, 1);
    await until(id.notificationId, 'sent');
    const again = await h.app.inject({ method: 'POST', url: `/v1/dead-letters/${id.id}/redrive`, headers: auth });
    assert.equal(again.statusCode, 409);
  });

  it('invalidates a device token the provider rejects and never uses it again', async () => {
    const first = await send({ channels: ['push'], content: { push: { title: 't', body: 'b' } } });
    await until(first.id, 'sent');
    const user = await eventually(3000, 'dead token inactive', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/v1/users/u-1', headers: auth });
      const devices = res.json<{ devices: { token: string; active: boolean }[] }>().devices;
      return devices.find((d) => d.token.startsWith('dead'))?.active === false ? devices : undefined;
    });
    assert.equal(user.length, 2);
    const before = fcm.sentTo.length;
    const second = await send({ channels: ['push'], content: { push: { title: 't2', body: 'b2' } } });
    await until(second.id, 'sent');
    const doc = await get(second.id);
    assert.equal(doc.events.filter((e) => e.type === 'NotificationSent').length, 1);
    assert.deepEqual(fcm.sentTo.slice(before), ['good-token-1234']);
  });

  it('holds a scheduled notification until sendAt, durably, then delivers it', async () => {
    const n = await send({ channels: ['email'], content: { email: { subject: 's', text: 't' } }, sendAt: new Date(Date.now() + 1200).toISOString() });
    assert.equal(n.status, 'scheduled');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await get(n.id)).status, 'scheduled');
    await h.restart();
    await until(n.id, 'sent', 6000);
    assert.ok((await h.outbox()).some((l) => l.notificationId === n.id));
  });

  it('cancels a scheduled notification before it goes; a sent one cannot be cancelled', async () => {
    const n = await send({ channels: ['email'], content: { email: { subject: 's', text: 't' } }, sendAt: new Date(Date.now() + 60_000).toISOString() });
    const res = await h.app.inject({ method: 'DELETE', url: `/v1/notifications/${n.id}`, headers: auth });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<{ status: string }>().status, 'cancelled');
    const sentOne = await send({ channels: ['email'], content: { email: { subject: 'now', text: 't' } } });
    await until(sentOne.id, 'sent');
    const late = await h.app.inject({ method: 'DELETE', url: `/v1/notifications/${sentOne.id}`, headers: auth });
    assert.equal(late.statusCode, 409);
    assert.equal(late.json<{ code: string }>().code, 'notification_not_cancellable');
  });
});

describe('expiresAt: news that is stale by then is not sent after it', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  let jump = 0;
  const now = () => new Date(Date.now() + jump);
  const sms: SandboxOptions = { outboxFile: '', failureRate: 1 };
  const send = (payload: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['sms'], category: 'c', content: { sms: { body: 'your driver is here' } }, ...payload } });
  const get = async (id: string) => (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<Doc & { expiresAt?: string }>();
  const inSeconds = (s: number) => new Date(now().getTime() + s * 1000).toISOString();

  before(async () => {
    h = await startTestHerald({ HERALD_SCHEDULER_TICK_MS: '20', HERALD_RETRY_BASE_DELAY_MS: '60000' }, (dir) => {
      sms.outboxFile = join(dir, 'sandbox-outbox.jsonl');
      return { now, providers: { sms: createSandboxProvider('sms', sms) } };
    });
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { phone: '+14155550123', timezone: 'UTC' } });
  });
  after(async () => {
    await h.close();
  });

  it('a retry due after it ends the notification suppressed, reason expired, and it is never sent', async () => {
    const res = await send({ expiresAt: inSeconds(60) });
    assert.equal(res.statusCode, 202, res.body);
    const n = res.json<{ notifications: { id: string }[] }>().notifications[0]!;
    await eventually(5000, 'the first attempt failed', async () => ((await get(n.id)).events.some((e) => e.type === 'DeliveryAttemptFailed') ? true : undefined));
    // The retry is due within a minute (backoff base 60 s, full jitter); two minutes on, it has expired.
    jump += 120_000;
    await eventually(5000, 'suppressed as expired', async () => ((await get(n.id)).status === 'suppressed' ? true : undefined));
    const doc = await get(n.id);
    assert.deepEqual([doc.events[0]?.type, doc.events.at(-2)?.type, doc.events.at(-1)?.reason], ['NotificationRequested', 'DeliveryDue', 'expired']);
    assert.equal(doc.events.some((e) => e.type === 'NotificationSent'), false);
    assert.equal(typeof doc.expiresAt, 'string');
    assert.deepEqual((await h.outbox()).filter((l) => l.notificationId === n.id), []);
    // Counted on the delivery thread, which reports to /metrics on its own schedule.
    await eventually(5000, 'counted as suppressed at its turn', async () => {
      const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
      return /herald_deliveries_total\{route="sms",provider="sandbox",outcome="suppressed"\} 1\n/.test(metrics.body) ? true : undefined;
    });
  });

  it('a quiet-hours hold that ends after it is suppressed at once; an expiresAt already past or not after sendAt is a 422', async () => {
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1/preferences', headers: auth, payload: { quietHours: { start: now().toISOString().slice(11, 16), end: new Date(now().getTime() + 3_600_000).toISOString().slice(11, 16) } } });
    const held = await send({ expiresAt: inSeconds(600) });
    assert.equal(held.statusCode, 202, held.body);
    assert.equal(held.json<{ notifications: { status: string }[] }>().notifications[0]!.status, 'suppressed');
    const past = await send({ expiresAt: inSeconds(-1) });
    assert.equal(past.statusCode, 422);
    assert.equal(past.json<{ code: string }>().code, 'already_expired');
    const beforeSend = await send({ sendAt: inSeconds(600), expiresAt: inSeconds(300) });
    assert.equal(beforeSend.statusCode, 422);
    assert.match(beforeSend.body, /expiresAt must be after sendAt/);
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1/preferences', headers: auth, payload: {} });
  });
});

describe('a push that reached some of the user\'s devices still reaches the others (real APNs and FCM SDKs, fake servers)', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  let apns: FakeApns;
  let fcm: FakeFcm;
  const phone = 'a1'.repeat(32);
  const tablet = 'b2'.repeat(32);
  const pixel = `pixel-token-${'x'.repeat(140)}`;
  const chromebook = `chromebook-token-${'y'.repeat(140)}`;
  type Entry = { type: string; attempt?: number; deliveries?: { to: string }[]; unsent?: { to: string; reason: string }[]; retryAt?: string };
  const get = async (id: string) => (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<{ status: string; routes: Record<string, string>; unsentDevices?: Record<string, number>; events: Entry[] }>();

  before(async () => {
    apns = await startFakeApns();
    fcm = await startFakeFcm();
    const logger = createLogger('silent');
    const providers = {
      apns: createApnsProvider({ ...apns.credentials, production: false }, logger, { address: apns.address, port: apns.port, ca: [apns.ca] }),
      fcm: createFcmProvider({ projectId: fcm.projectId, clientEmail: 'herald@herald-test.iam.gserviceaccount.com', privateKey: 'unused: the fake hands out the access token', transport: 'http1' }, logger, { credential: fcm.credential, httpAgent: fcm.httpAgent }),
    };
    h = await startTestHerald({ HERALD_RETRY_BASE_DELAY_MS: '20', HERALD_SCHEDULER_TICK_MS: '20' }, { providers });
    for (const [userId, platform, token] of [['u-2', 'ios', phone], ['u-2', 'ios', tablet], ['u-3', 'android', pixel], ['u-3', 'android', chromebook]]) {
      const res = await h.app.inject({ method: 'POST', url: `/v1/users/${userId}/devices`, headers: auth, payload: { platform, token } });
      assert.equal(res.statusCode, 201, res.body);
    }
  });
  after(async () => {
    await h.close();
    await apns.close();
    await fcm.close();
  });

  it('the device whose first call got a 503 gets it on retry; the one that had it is not pushed again', async () => {
    apns.failToken(tablet, 'ServiceUnavailable', { times: 1 });
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-2' }], channels: ['push'], category: 'chat', content: { push: { title: 'Ada', body: 'Hi' } } } });
    assert.equal(res.statusCode, 202, res.body);
    const id = res.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
    const doc = await eventually(8000, `${id} retried on the tablet`, async () => {
      const d = await get(id);
      return d.events.some((e) => e.type === 'UnsentDevicesRetried') ? d : undefined;
    });
    assert.deepEqual(doc.events.map((e) => e.type), ['NotificationRequested', 'NotificationSent', 'DeliveryDue', 'UnsentDevicesRetried']);
    const [sent, due, retried] = doc.events.slice(1);
    assert.deepEqual([sent?.deliveries?.length, sent?.unsent?.map((u) => u.reason), typeof sent?.retryAt], [1, ['provider_unavailable'], 'string']);
    assert.equal(due?.attempt, 2);
    assert.deepEqual([retried?.attempt, retried?.deliveries?.length, retried?.unsent, retried?.retryAt], [2, 1, [], undefined]);
    assert.ok(!JSON.stringify(doc.events).includes(tablet), 'tokens are masked on the timeline');
    assert.deepEqual([doc.status, doc.routes, doc.unsentDevices], ['sent', { apns: 'sent' }, undefined]);
    const calls = (token: string) => apns.requests.filter((r) => r.token === token).length;
    assert.deepEqual([calls(phone), calls(tablet)], [1, 2], 'the phone once, the tablet twice (503, then accepted)');
    assert.deepEqual(apns.violations, []);
    // Counted as a retry scheduled, then as a device retry that settled every device.
    await eventually(3000, 'the device retry counted', async () => {
      const body = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
      return /herald_delivery_retries_total\{route="apns"\} 1\n/.test(body) && /herald_deliveries_total\{route="apns",provider="apns",outcome="unsent_settled"\} 1\n/.test(body) ? true : undefined;
    });
  });

  it('a device that fails its retry too is tried again, until it takes it', async () => {
    const [watch, laptop] = ['c3'.repeat(32), 'd4'.repeat(32)];
    for (const token of [watch, laptop]) assert.equal((await h.app.inject({ method: 'POST', url: '/v1/users/u-4/devices', headers: auth, payload: { platform: 'ios', token } })).statusCode, 201);
    apns.failToken(laptop, 'ServiceUnavailable', { times: 2 });
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-4' }], channels: ['push'], category: 'chat', content: { push: { title: 'Ada', body: 'Hi' } } } });
    const id = res.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
    const doc = await eventually(8000, `${id} retried twice on the laptop`, async () => {
      const d = await get(id);
      return d.events.filter((e) => e.type === 'UnsentDevicesRetried').length === 2 ? d : undefined;
    });
    assert.deepEqual(doc.events.map((e) => [e.type, e.attempt]), [['NotificationRequested', undefined], ['NotificationSent', 1], ['DeliveryDue', 2], ['UnsentDevicesRetried', 2], ['DeliveryDue', 3], ['UnsentDevicesRetried', 3]]);
    assert.deepEqual([doc.events[3]?.unsent?.length, typeof doc.events[3]?.retryAt, doc.events[5]?.deliveries?.length, doc.unsentDevices], [1, 'string', 1, undefined]);
    assert.deepEqual([watch, laptop].map((t) => apns.requests.filter((r) => r.token === t).length), [1, 3]);
  });

  it('the same on FCM: a device whose first call got INTERNAL (which the SDK does not retry itself) gets it on retry, the other once', async () => {
    fcm.failToken(chromebook, 'internal', { times: 1 });
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-3' }], channels: ['push'], category: 'chat', content: { push: { title: 'Ada', body: 'Hi' } } } });
    assert.equal(res.statusCode, 202, res.body);
    const id = res.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
    const doc = await eventually(8000, `${id} retried on the chromebook`, async () => {
      const d = await get(id);
      return d.events.some((e) => e.type === 'UnsentDevicesRetried') ? d : undefined;
    });
    assert.deepEqual(doc.events.map((e) => e.type), ['NotificationRequested', 'NotificationSent', 'DeliveryDue', 'UnsentDevicesRetried']);
    assert.deepEqual(doc.events[1]?.unsent?.map((u) => u.reason), ['provider_internal_error']);
    assert.deepEqual([doc.events[3]?.deliveries?.length, doc.events[3]?.unsent, doc.status, doc.unsentDevices], [1, [], 'sent', undefined]);
    const calls = (token: string) => fcm.requests.filter((r) => r.token === token).length;
    assert.deepEqual([calls(pixel), calls(chromebook)], [1, 2]);
    assert.deepEqual(fcm.violations, []);
  });
});
