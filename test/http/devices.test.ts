import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';
import { registerDevice } from '../../src/commands/users.ts';

type User = { devices: { token: string; active: boolean }[] };

describe('a device registered to another user moves to that user', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  const token = `fcm-token:APA91bH${'s'.repeat(140)}`;
  const register = (userId: string, t = token) => h.app.inject({ method: 'POST', url: `/v1/users/${userId}/devices`, headers: auth, payload: { platform: 'android', token: t } });
  const tokens = async (userId: string) => (await h.app.inject({ method: 'GET', url: `/v1/users/${userId}`, headers: auth })).json<User>().devices.map((d) => d.token);
  const push = async (userId: string) => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId }], channels: ['push'], category: 'c', content: { push: { title: `for ${userId}`, body: 'b' } } } });
    assert.equal(res.statusCode, 202, res.body);
    return res.json<{ notifications: { id: string; status: string }[] }>().notifications[0]!;
  };

  before(async () => {
    h = await startTestHerald();
    for (const userId of ['ada', 'bob', 'cy', 'dee']) await h.app.inject({ method: 'PUT', url: `/v1/users/${userId}`, headers: auth, payload: {} });
  });
  after(async () => {
    await h.close();
  });

  it('the phone Ada logged out of and Bob logged into gets Bob\'s notifications, never Ada\'s again', async () => {
    assert.equal((await register('ada')).statusCode, 201);
    const first = await push('ada');
    await eventually(5000, 'Ada\'s push on the phone', async () => ((await h.outbox()).some((l) => l.notificationId === first.id && l.to === token) ? true : undefined));

    // Bob signs in on the same phone; its app registers the same token for him (Ada's app never said logout).
    const moved = await register('bob');
    assert.equal(moved.statusCode, 201, moved.body);
    assert.deepEqual(await tokens('bob'), [token]);
    assert.deepEqual(await tokens('ada'), [], 'Ada no longer has the phone');
    const forAda = await push('ada');
    assert.equal(forAda.status, 'suppressed', 'Ada has no device left');
    const forBob = await push('bob');
    await eventually(5000, 'Bob\'s push on the phone', async () => ((await h.outbox()).some((l) => l.notificationId === forBob.id && l.to === token) ? true : undefined));
    // The outbox line comes before the worker appends NotificationSent: wait for that too, so the head below stays put.
    await eventually(5000, 'Bob\'s push recorded sent', async () => ((await h.herald.events.readStream(`notification-${forBob.id}`)).some((e) => e.type === 'NotificationSent') ? true : undefined));

    const removed = (await h.herald.events.readStream('user-ada')).filter((e) => e.type === 'DeviceRemoved');
    assert.deepEqual(removed.map((e) => (e.data as { reason?: string }).reason), ['claimed_by_another_user']);
    // Registering again for the owner changes nothing; Ada signing back in takes it back.
    const before = await h.herald.events.headPosition();
    assert.equal((await register('bob')).statusCode, 201);
    assert.equal(await h.herald.events.headPosition(), before, 'nothing written');
    await register('ada');
    assert.deepEqual([await tokens('ada'), await tokens('bob')], [[token], []]);
  });

  it('an APNs token in capitals is the same phone: stored in small letters, it moves to the user who registers it in either case', async () => {
    const hex = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'.repeat(2);
    const ios = (userId: string, t: string) => h.app.inject({ method: 'POST', url: `/v1/users/${userId}/devices`, headers: auth, payload: { platform: 'ios', token: t } });
    const first = await ios('cy', hex.toUpperCase());
    assert.equal(first.statusCode, 201, first.body);
    assert.deepEqual(await tokens('cy'), [hex]);
    assert.equal((await ios('dee', hex)).statusCode, 201);
    assert.deepEqual([await tokens('cy'), await tokens('dee')], [[], [hex]], 'one owner, not one per spelling');
    const logout = await h.app.inject({ method: 'DELETE', url: `/v1/users/dee/devices/${hex.toUpperCase()}`, headers: auth });
    assert.equal(logout.statusCode, 204);
    assert.deepEqual(await tokens('dee'), [], 'logging out in capitals removes it too');
  });

  it('a phone registered in capitals before tokens were lower-cased moves too when another user registers it', async () => {
    const hex = 'b2c3d4e5f60718293a4b5c6d7e8f90a1'.repeat(2);
    // As an older Herald stored it: the capitals, claimed under their own digest.
    await registerDevice({ store: h.herald.events, now: () => new Date() }, { userId: 'cy', token: hex.toUpperCase(), platform: 'ios' });
    assert.deepEqual(await tokens('cy'), [hex.toUpperCase()]);
    const moved = await h.app.inject({ method: 'POST', url: '/v1/users/dee/devices', headers: auth, payload: { platform: 'ios', token: hex } });
    assert.equal(moved.statusCode, 201, moved.body);
    assert.deepEqual([await tokens('cy'), await tokens('dee')], [[], [hex]]);
    await h.app.inject({ method: 'DELETE', url: `/v1/users/dee/devices/${hex}`, headers: auth });
  });

  it('two users registering the same token at once: it ends with exactly one of them', async () => {
    const shared = `apns-${'0123456789abcdef'.repeat(4)}`;
    const answers = await Promise.all([register('cy', shared), register('dee', shared), register('cy', shared), register('dee', shared)]);
    for (const res of answers) assert.equal(res.statusCode, 201, res.body);
    const holders = [(await tokens('cy')).includes(shared), (await tokens('dee')).includes(shared)];
    assert.equal(holders.filter(Boolean).length, 1, `held by exactly one: ${JSON.stringify(holders)}`);
  });
});

describe('an iOS device token that is not hex', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  const register = (token: string) => h.app.inject({ method: 'POST', url: '/v1/users/ann/devices', headers: auth, payload: { platform: 'ios', token } });

  before(async () => {
    h = await startTestHerald();
  });
  after(async () => {
    await h.close();
  });

  it('is a 422 naming the token, for NSData\'s description in both its forms, and not stored', async () => {
    const hex = 'a1b2c3d4'.repeat(8);
    for (const token of [`<${hex.match(/.{8}/g)!.join(' ')}>`, `{length = 32, bytes = 0x${hex.slice(0, 8)} ... ${hex.slice(-8)} }`, hex.slice(1)]) {
      const res = await register(token);
      assert.equal(res.statusCode, 422, token);
      const errors = res.json<{ errors: { path: string; message: string }[] }>().errors;
      assert.deepEqual(errors.map((e) => e.path), ['/token']);
      assert.match(errors[0]!.message, /APNs\) device token is hex/);
      assert.ok(!res.body.includes(hex.slice(0, 8)), 'the token is not echoed');
    }
    assert.equal((await h.app.inject({ method: 'GET', url: '/v1/users/ann', headers: auth })).statusCode, 404);
    assert.equal((await register(hex.toUpperCase())).statusCode, 201);
    assert.equal((await register('ab'.repeat(100))).statusCode, 201, 'longer tokens, which Apple says may come');
  });

  it('drops whitespace around any token; spaces, line breaks or quotes in an FCM token are a 422', async () => {
    const fcm = `dQw4w9WgXcQ:APA91bH${'x'.repeat(140)}`;
    const android = (token: string) => h.app.inject({ method: 'POST', url: '/v1/users/ann/devices', headers: auth, payload: { platform: 'android', token } });
    const saved = await android(` ${fcm}\n`);
    assert.equal(saved.statusCode, 201, saved.body);
    assert.ok(saved.json<User>().devices.some((d) => d.token === fcm), saved.body);
    const ios = await register(`${'a1b2c3d4'.repeat(8)}\r\n`);
    assert.equal(ios.statusCode, 201, 'an APNs token read with its line ending');
    for (const [token, message] of [[`${fcm.slice(0, 20)} ${fcm.slice(20)}`, /no spaces, line breaks/], [`${fcm.slice(0, 20)}\n${fcm.slice(20)}`, /no spaces, line breaks/], [`"${fcm}"`, /JSON-encoded twice/]] as const) {
      const res = await android(token);
      assert.equal(res.statusCode, 422, JSON.stringify(token));
      const errors = res.json<{ errors: { path: string; message: string }[] }>().errors;
      assert.deepEqual(errors.map((e) => e.path), ['/token']);
      assert.match(errors[0]!.message, message);
    }
  });
});

describe('a user holds at most HERALD_MAX_DEVICES_PER_USER devices', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  before(async () => {
    h = await startTestHerald({ HERALD_MAX_DEVICES_PER_USER: '2' });
    await h.app.inject({ method: 'PUT', url: '/v1/users/eve', headers: auth, payload: {} });
  });
  after(async () => {
    await h.close();
  });

  it('a registration beyond it pushes out the longest registered device, which no push reaches again', async () => {
    const register = (token: string) => h.app.inject({ method: 'POST', url: '/v1/users/eve/devices', headers: auth, payload: { platform: 'android', token } });
    for (const token of ['launch-1', 'launch-2']) assert.equal((await register(token)).statusCode, 201);
    const third = await register('launch-3');
    assert.equal(third.statusCode, 201, third.body);
    assert.deepEqual(third.json<User>().devices.map((d) => d.token), ['launch-2', 'launch-3']);
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'eve' }], channels: ['push'], category: 'c', content: { push: { title: 't', body: 'b' } } } });
    assert.equal(res.statusCode, 202, res.body);
    const id = res.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
    await eventually(5000, 'the push delivered', async () => ((await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<{ status: string }>().status === 'sent' ? true : undefined));
    const sent = (await h.outbox()).filter((l) => l.channel === 'push');
    assert.deepEqual(sent.map((l) => l.to).sort(), ['launch-2', 'launch-3']);
    const removal = (await h.herald.events.readStream('user-eve')).find((e) => e.type === 'DeviceRemoved');
    assert.deepEqual(removal?.data, { userId: 'eve', token: 'launch-1', reason: 'device_limit', at: removal?.data.at });
  });
});

describe('a device the app registers again', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  let clock = Date.parse('2026-11-01T09:00:00.000Z');
  const day = 86_400_000;
  type Listed = { devices: { token: string; registeredAt: string }[] };
  const register = (token: string) => h.app.inject({ method: 'POST', url: '/v1/users/fay/devices', headers: auth, payload: { platform: 'android', token } });

  before(async () => {
    h = await startTestHerald({ HERALD_MAX_DEVICES_PER_USER: '2' }, { now: () => new Date(clock) });
    await h.app.inject({ method: 'PUT', url: '/v1/users/fay', headers: auth, payload: {} });
  });
  after(async () => {
    await h.close();
  });

  it('is recorded again once its registration is a week old, so the device limit pushes out the one no longer in use', async () => {
    await register('phone-token');
    clock += day;
    await register('old-browser-token');
    // Launches within the week change nothing; the first a week on moves the phone to the newest place.
    clock += 5 * day;
    const res = await register('phone-token');
    assert.equal(res.statusCode, 201, res.body);
    const unchanged = res.json<Listed>();
    assert.deepEqual(unchanged.devices.map((d) => [d.token, d.registeredAt]), [['phone-token', '2026-11-01T09:00:00.000Z'], ['old-browser-token', '2026-11-02T09:00:00.000Z']]);
    clock += 2 * day;
    const refreshed = (await register('phone-token')).json<Listed>();
    assert.deepEqual(refreshed.devices.map((d) => [d.token, d.registeredAt]), [['old-browser-token', '2026-11-02T09:00:00.000Z'], ['phone-token', '2026-11-09T09:00:00.000Z']]);
    const registrations = (await h.herald.events.readStream('user-fay')).filter((e) => e.type === 'DeviceRegistered').map((e) => (e.data as { token: string }).token);
    assert.deepEqual(registrations, ['phone-token', 'old-browser-token', 'phone-token']);
    const tablet = (await register('tablet-token')).json<Listed>();
    assert.deepEqual(tablet.devices.map((d) => d.token), ['phone-token', 'tablet-token']);
  });
});
