import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Scope } from '../../src/domain/app.ts';
import { requiredScope } from '../../src/http/scopes.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { bearer, createApp, type CreatedApp as Created, type Harness } from './helpers.ts';

/** A concrete URL for a route pattern; auth runs before validation, so any value will do. */
const fill = (url: string) => url.replace(/:[A-Za-z]+/g, '0190a0b0-0000-7000-8000-000000000000');

describe('every /v1 route needs a key with the right scope', () => {
  let h: Harness;
  const keyLacking: Partial<Record<Scope, Created>> = {};
  before(async () => {
    h = await startTestHerald();
    keyLacking.admin = await createApp(h, ['send', 'read']);
    keyLacking.read = await createApp(h, ['send']);
    keyLacking.send = await createApp(h, ['read']);
  });
  after(async () => {
    await h.close();
  });

  /** Every route that needs an app key: all of /v1 except provider webhooks, which are signed instead. */
  const v1Routes = () => h.app.registeredRoutes.filter((r) => r.url.startsWith('/v1/') && requiredScope(r.method, r.url) !== null);

  it('the app registers the routes this test walks', () => {
    const urls = new Set(v1Routes().map((r) => `${r.method} ${r.url}`));
    for (const expected of ['POST /v1/notifications', 'GET /v1/users/:userId', 'POST /v1/apps', 'DELETE /v1/apps/:appId', 'GET /v1/dead-letters']) assert.ok(urls.has(expected), expected);
  });

  it('without a key, or with a malformed or unknown one → 401 problem with WWW-Authenticate', async () => {
    for (const route of v1Routes()) {
      for (const headers of [{}, { authorization: 'Basic abc' }, bearer('ak_nope.hs_nope'), bearer('not-a-key-at-all-000000')]) {
        const res = await h.app.inject({ method: route.method as 'GET', url: fill(route.url), headers });
        assert.equal(res.statusCode, 401, `${route.method} ${route.url} with ${JSON.stringify(headers)}: ${res.body}`);
        assert.match(res.headers['www-authenticate'] as string, /^Bearer/);
        if (route.method !== 'HEAD') assert.equal(res.json<{ code: string }>().code, 'unauthorized');
      }
    }
  });

  it('with a key lacking the scope the table names → 403 insufficient_scope', async () => {
    for (const route of v1Routes()) {
      const needed = requiredScope(route.method, route.url);
      assert.ok(needed, `${route.url} needs a scope`);
      const res = await h.app.inject({ method: route.method as 'GET', url: fill(route.url), headers: bearer(keyLacking[needed]!.token) });
      assert.equal(res.statusCode, 403, `${route.method} ${route.url}: ${res.body}`);
      if (route.method !== 'HEAD') assert.deepEqual([res.json<{ code: string }>().code, res.json<{ requiredScope: string }>().requiredScope], ['insufficient_scope', needed]);
    }
  });

  it('with the right scope the request gets past authorization (whatever the handler then says)', async () => {
    const right: Record<Scope, Created> = { admin: await createApp(h, ['admin']), read: await createApp(h, ['read']), send: await createApp(h, ['send']) };
    for (const route of v1Routes()) {
      const res = await h.app.inject({ method: route.method as 'GET', url: fill(route.url), headers: bearer(right[requiredScope(route.method, route.url)!].token) });
      assert.ok(![401, 403].includes(res.statusCode), `${route.method} ${route.url}: ${res.statusCode} ${res.body}`);
    }
  });

  it('the scope table: reads need read, writes need send, apps and dead letters need admin', () => {
    assert.equal(requiredScope('GET', '/v1/notifications/:id'), 'read');
    assert.equal(requiredScope('POST', '/v1/notifications/:id/opened'), 'send');
    assert.equal(requiredScope('PUT', '/v1/users/:userId'), 'send');
    assert.equal(requiredScope('GET', '/v1/apps'), 'admin');
    assert.equal(requiredScope('POST', '/v1/dead-letters/redrive'), 'admin');
    assert.equal(requiredScope('DELETE', '/v1/users/:userId/opt-outs/:channel'), 'admin', 'sending to an address a provider refused again is an operator\'s call');
    assert.equal(requiredScope('DELETE', '/v1/users/:userId/devices/:token'), 'send');
    assert.equal(requiredScope('GET', '/v1/appsettings'), 'admin', 'unknown /v1 routes are denied by default, not matched by a prefix');
    assert.equal(requiredScope('GET', '/health'), null);
  });

  it('the bootstrap key (HERALD_API_KEY) keeps working as an admin key', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/apps', headers: auth });
    assert.equal(res.statusCode, 200);
    assert.ok(res.json<{ apps: unknown[] }>().apps.length >= 3);
  });

  it('the scheme name is case-insensitive (RFC 9110): bearer and BEARER work as Bearer does', async () => {
    const key = auth.authorization.slice('Bearer '.length);
    for (const scheme of ['bearer', 'BEARER']) assert.equal((await h.app.inject({ method: 'GET', url: '/v1/apps', headers: { authorization: `${scheme} ${key}` } })).statusCode, 200, scheme);
    assert.equal((await h.app.inject({ method: 'GET', url: '/v1/apps', headers: { authorization: `Basic ${key}` } })).statusCode, 401);
  });

  it('provider webhooks take no app key, and an unsigned callback is still refused', async () => {
    const webhooks = h.app.registeredRoutes.filter((r) => r.url.startsWith('/v1/webhooks/'));
    for (const route of webhooks) {
      const res = await h.app.inject({ method: route.method as 'POST', url: route.url, payload: {} });
      assert.ok(res.statusCode >= 400, `${route.url} refuses an unsigned callback: ${res.statusCode}`);
      assert.notEqual(res.headers['www-authenticate'], 'Bearer realm="herald"', `${route.url} is not behind the app-key check`);
    }
  });

  it('an unmatched /v1 URL asks for a key before saying 404', async () => {
    assert.equal((await h.app.inject({ method: 'GET', url: '/v1/nothing-here' })).statusCode, 401);
    assert.equal((await h.app.inject({ method: 'GET', url: '/v1/nothing-here', headers: auth })).statusCode, 404);
  });

  it('probes, metrics and docs need no key', async () => {
    for (const url of ['/health', '/ready', '/metrics', '/openapi.json', '/docs']) {
      const res = await h.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`);
    }
  });
});
