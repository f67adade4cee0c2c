import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { appStream } from '../../src/domain/app.ts';
import { notificationStream } from '../../src/domain/notification.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';
import { bearer, createApp, type Harness } from './helpers.ts';

const probe = async (h: Harness, token: string) => (await h.app.inject({ method: 'GET', url: '/v1/users/nobody', headers: bearer(token) })).statusCode;
const works = async (h: Harness, token: string) => (await probe(h, token)) === 404;
type Rotated = { appId: string; appKey: string; token: string; previous?: { appKey: string; validUntil: string } };

describe('client apps: keys shown once, stored as digests, rotated with a grace period, revoked at once', () => {
  let h: Harness;
  before(async () => {
    h = await startTestHerald();
  });
  after(async () => {
    await h.close();
  });

  it('creates an app whose token authenticates; the secret is 256 random bits and never stored', async () => {
    const app = await createApp(h, ['send', 'read'], 'shop');
    assert.match(app.secret, /^hs_[A-Za-z0-9_-]{43}$/);
    assert.equal(app.token, `${app.appKey}.${app.secret}`);
    assert.ok(await works(h, app.token));
    const stored = JSON.stringify(await h.herald.events.readStream(appStream(app.appId)));
    assert.equal(stored.includes(app.secret), false, 'only the digest is in the event log');
    const listed = await h.app.inject({ method: 'GET', url: `/v1/apps/${app.appId}`, headers: auth });
    assert.equal(listed.body.includes(app.secret), false);
    assert.deepEqual(listed.json<{ keys: unknown[] }>().keys, [{ appKey: app.appKey }]);
  });

  it('with an Idempotency-Key, a retried create makes no second app: 409 app_exists with its id; another body under the key is a 422', async () => {
    const create = (name: string) => h.app.inject({ method: 'POST', url: '/v1/apps', headers: { ...auth, 'idempotency-key': 'provision-billing-1' }, payload: { name, scopes: ['send', 'read'] } });
    const first = await create('billing');
    assert.equal(first.statusCode, 201, first.body);
    const { appId, token } = first.json<{ appId: string; token: string }>();
    const again = await create('billing');
    assert.equal(again.statusCode, 409, again.body);
    assert.deepEqual([again.json<{ code: string }>().code, again.json<{ appId: string }>().appId], ['app_exists', appId]);
    assert.match(again.json<{ detail: string }>().detail, new RegExp(`POST /v1/apps/${appId}/keys/rotate`));
    assert.equal(again.body.includes('hs_'), false, 'no secret in the answer');
    assert.equal((await h.app.inject({ method: 'GET', url: '/v1/apps', headers: auth })).json<{ apps: { name: string }[] }>().apps.filter((a) => a.name === 'billing').length, 1);
    assert.ok(await works(h, token), 'the first key still works');
    const other = await create('payroll');
    assert.deepEqual([other.statusCode, other.json<{ code: string }>().code], [422, 'idempotency_key_reused']);
  });

  it('refuses the right app key with a wrong secret', async () => {
    const app = await createApp(h, ['read']);
    assert.equal(await probe(h, `${app.appKey}.hs_${'A'.repeat(43)}`), 401);
    assert.equal(await probe(h, `${app.appKey}.`), 401);
    assert.equal(await probe(h, app.appKey), 401);
  });

  it('rotation: old and new keys both work during the grace period, only the new one after it', async () => {
    const app = await createApp(h, ['read']);
    const res = await h.app.inject({ method: 'POST', url: `/v1/apps/${app.appId}/keys/rotate`, headers: auth, payload: { graceSeconds: 1 } });
    assert.equal(res.statusCode, 200, res.body);
    const rotated = res.json<Rotated>();
    assert.notEqual(rotated.appKey, app.appKey);
    assert.equal(rotated.previous?.appKey, app.appKey);
    assert.ok(await works(h, app.token), 'old key inside the grace period');
    assert.ok(await works(h, rotated.token), 'new key');
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await probe(h, app.token), 401, 'old key after the grace period');
    assert.ok(await works(h, rotated.token));
  });

  it('rotation with no grace ends the old key at once; the default grace comes from config', async () => {
    const app = await createApp(h, ['read']);
    const first = (await h.app.inject({ method: 'POST', url: `/v1/apps/${app.appId}/keys/rotate`, headers: auth })).json<Rotated>();
    const hours = (Date.parse(first.previous!.validUntil) - Date.now()) / 3_600_000;
    assert.ok(hours > 23.9 && hours <= 24, `default grace is a day, got ${hours} h`);
    const second = (await h.app.inject({ method: 'POST', url: `/v1/apps/${app.appId}/keys/rotate`, headers: auth, payload: { graceSeconds: 0 } })).json<Rotated>();
    assert.equal(await probe(h, first.token), 401);
    assert.ok(await works(h, second.token));
    assert.ok(await works(h, app.token), 'the first key keeps its own, earlier grace period');
  });

  it('revocation stops every key of the app at once, is idempotent, and blocks rotation', async () => {
    const app = await createApp(h, ['send', 'read']);
    const rotated = (await h.app.inject({ method: 'POST', url: `/v1/apps/${app.appId}/keys/rotate`, headers: auth })).json<Rotated>();
    assert.equal((await h.app.inject({ method: 'DELETE', url: `/v1/apps/${app.appId}`, headers: auth })).statusCode, 204);
    assert.equal(await probe(h, app.token), 401);
    assert.equal(await probe(h, rotated.token), 401);
    assert.equal((await h.app.inject({ method: 'DELETE', url: `/v1/apps/${app.appId}`, headers: auth })).statusCode, 204);
    const again = await h.app.inject({ method: 'POST', url: `/v1/apps/${app.appId}/revoke`, headers: auth });
    assert.deepEqual([again.statusCode, again.json<{ revoked: boolean }>().revoked], [200, true]);
    const rotate = await h.app.inject({ method: 'POST', url: `/v1/apps/${app.appId}/keys/rotate`, headers: auth });
    assert.deepEqual([rotate.statusCode, rotate.json<{ code: string }>().code], [409, 'app_revoked']);
  });

  it('an unknown app → 404 problem', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/apps/0190a0b0-0000-7000-8000-000000000000/revoke', headers: auth });
    assert.deepEqual([res.statusCode, res.json<{ code: string }>().code], [404, 'app_not_found']);
  });

  it('an app cannot administer apps, even its own', async () => {
    const app = await createApp(h, ['send', 'read']);
    const res = await h.app.inject({ method: 'DELETE', url: `/v1/apps/${app.appId}`, headers: bearer(app.token) });
    assert.equal(res.statusCode, 403);
    assert.ok(await works(h, app.token));
  });

  it('keys survive a restart (they are events), and a revocation does too', async () => {
    const kept = await createApp(h, ['read']);
    const revoked = await createApp(h, ['read']);
    await h.app.inject({ method: 'DELETE', url: `/v1/apps/${revoked.appId}`, headers: auth });
    await h.restart();
    assert.ok(await works(h, kept.token));
    assert.equal(await probe(h, revoked.token), 401);
  });
});

describe('an app sees only its own notifications; the events record which app caused them', () => {
  let h: Harness;
  before(async () => {
    h = await startTestHerald();
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { email: 'ada@example.com' } });
  });
  after(async () => {
    await h.close();
  });

  it('isolates GET by id, opens and the per-user list between apps; admin sees all', async () => {
    const a = await createApp(h, ['send', 'read'], 'a');
    const b = await createApp(h, ['send', 'read'], 'b');
    const send = { to: [{ userId: 'u-1' }], category: 'c', content: { email: { subject: 'Hi', text: 'x' } } };
    const sent = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: bearer(a.token), payload: send });
    assert.equal(sent.statusCode, 202, sent.body);
    const id = sent.json<{ notifications: { id: string }[] }>().notifications[0]!.id;

    const [first] = await h.herald.events.readStream(notificationStream(id), { maxCount: 1 });
    assert.equal(first?.metadata.appId, a.appId);

    const get = (token: string) => h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: bearer(token) });
    assert.equal((await get(a.token)).statusCode, 200);
    const other = await get(b.token);
    assert.deepEqual([other.statusCode, other.json<{ code: string }>().code], [404, 'notification_not_found']);
    assert.equal((await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).statusCode, 200);
    assert.equal((await h.app.inject({ method: 'POST', url: `/v1/notifications/${id}/opened`, headers: bearer(b.token) })).statusCode, 404);

    const list = async (headers: Record<string, string>) => (await h.app.inject({ method: 'GET', url: '/v1/users/u-1/notifications', headers })).json<{ notifications: { id: string }[] }>().notifications.map((n) => n.id);
    await eventually(3000, 'the log shows the notification', async () => ((await list(auth)).includes(id) ? true : undefined));
    assert.deepEqual(await list(bearer(a.token)), [id]);
    assert.deepEqual(await list(bearer(b.token)), []);
  });
});
