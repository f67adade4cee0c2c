import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';
import { bearer, createApp, type Harness } from './helpers.ts';

type View = { appId: string; url: string; events: string[]; secret: string; secretVersion: number; previousSecret?: { secret: string; validUntil: string } };
type ProblemBody = { status: number; code: string; detail?: string };

describe('PUT/GET/DELETE /v1/apps/:appId/callback and its secret rotation', () => {
  let h: Harness;
  let appId = '';
  before(async () => {
    h = await startTestHerald({ HERALD_TRACKING_SECRET: 'tracking-secret-0123456789abcdefghijklmnop' });
    appId = (await createApp(h, ['send', 'read'], 'shop')).appId;
  });
  after(async () => {
    await h.close();
  });

  const put = (payload: unknown, id = appId, headers: Record<string, string> = auth) => h.app.inject({ method: 'PUT', url: `/v1/apps/${id}/callback`, headers, payload: payload as object });
  const get = (id = appId) => h.app.inject({ method: 'GET', url: `/v1/apps/${id}/callback`, headers: auth });

  it('refuses a URL that is not http(s), has credentials or a fragment, and unknown outcomes, with 422 problem details', async () => {
    for (const url of ['ftp://shop.example.com/hook', 'https://user:secret@shop.example.com/hook', 'https://shop.example.com/hook#x', 'shop.example.com/hook', `https://e.com/${'a'.repeat(2100)}`]) {
      const res = await put({ url });
      assert.equal(res.statusCode, 422, url);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(res.json<ProblemBody>().code, 'validation_failed');
      assert.equal(res.body.includes('secret@'), false, 'the credentials are not echoed');
    }
    assert.equal((await put({ url: 'https://shop.example.com/hook', events: ['sent', 'teleported'] })).statusCode, 422);
    assert.equal((await put({ url: 'https://shop.example.com/hook', extra: 1 })).statusCode, 422, 'strict body');
    assert.equal((await put({})).statusCode, 422);
  });

  it('needs the admin scope, and names a missing app or callback with 404', async () => {
    const sender = await createApp(h, ['send', 'read'], 'sender');
    assert.equal((await put({ url: 'https://shop.example.com/hook' }, appId, bearer(sender.token))).statusCode, 403);
    assert.equal((await h.app.inject({ method: 'PUT', url: `/v1/apps/${appId}/callback`, payload: { url: 'https://shop.example.com/hook' } })).statusCode, 401);
    const missing = '00000000-0000-7000-8000-000000000000';
    assert.equal((await put({ url: 'https://shop.example.com/hook' }, missing)).json<ProblemBody>().code, 'app_not_found');
    assert.equal((await put({ url: 'https://shop.example.com/hook' }, 'not-a-uuid')).statusCode, 422);
    const none = await get();
    assert.deepEqual([none.statusCode, none.json<ProblemBody>().code], [404, 'callback_not_set']);
    const rotate = await h.app.inject({ method: 'POST', url: `/v1/apps/${appId}/callback/rotate-secret`, headers: auth });
    assert.deepEqual([rotate.statusCode, rotate.json<ProblemBody>().code], [404, 'callback_not_set']);
  });

  it('sets a callback and shows its secret, the same on GET; a rotation shows a new one and the previous for a day', async () => {
    const res = await put({ url: 'https://shop.example.com/hook', events: ['failed', 'sent'] });
    assert.equal(res.statusCode, 200, res.body);
    const view = res.json<View>();
    assert.deepEqual([view.appId, view.url, view.events, view.secretVersion], [appId, 'https://shop.example.com/hook', ['sent', 'failed'], 1]);
    assert.match(view.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.equal((await get()).json<View>().secret, view.secret);
    const app = await h.app.inject({ method: 'GET', url: `/v1/apps/${appId}`, headers: auth });
    assert.deepEqual(app.json<{ callback?: unknown }>().callback, { url: 'https://shop.example.com/hook', events: ['sent', 'failed'] });
    assert.equal(app.body.includes(view.secret), false, 'the app itself shows no secret');
    const rotated = (await h.app.inject({ method: 'POST', url: `/v1/apps/${appId}/callback/rotate-secret`, headers: auth })).json<View>();
    assert.equal(rotated.secretVersion, 2);
    assert.notEqual(rotated.secret, view.secret);
    assert.equal(rotated.previousSecret?.secret, view.secret);
    const changed = (await put({ url: 'https://shop.example.com/hook2' })).json<View>();
    assert.deepEqual([changed.secret, changed.events.length], [rotated.secret, 12], 'a new URL keeps the secret; no events named: all');
  });

  it('DELETE clears it (204, again 204); a revoked app cannot set one (409)', async () => {
    assert.equal((await h.app.inject({ method: 'DELETE', url: `/v1/apps/${appId}/callback`, headers: auth })).statusCode, 204);
    assert.equal((await get()).statusCode, 404);
    assert.equal((await h.app.inject({ method: 'DELETE', url: `/v1/apps/${appId}/callback`, headers: auth })).statusCode, 204);
    assert.equal((await h.app.inject({ method: 'DELETE', url: `/v1/apps/${appId}`, headers: auth })).statusCode, 204);
    const res = await put({ url: 'https://shop.example.com/hook' });
    assert.deepEqual([res.statusCode, res.json<ProblemBody>().code], [409, 'app_revoked']);
  });
});
