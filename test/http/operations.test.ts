import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/http/app.ts';
import { ApiKeys } from '../../src/http/apiKeys.ts';
import { createLogger } from '../../src/logger.ts';
import { auth, API_KEY, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';
import type { Harness } from './helpers.ts';

describe('metrics, readiness and request ids', () => {
  let h: Harness;
  before(async () => {
    h = await startTestHerald();
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { email: 'ada@example.com' } });
  });
  after(async () => {
    await h.close();
  });

  const scrape = async () => (await h.app.inject({ method: 'GET', url: '/metrics' })).body;

  it('exposes HTTP durations by route pattern, process metrics and per-group queue gauges', async () => {
    const body = await scrape();
    assert.match(body, /herald_http_request_duration_seconds_bucket\{le="[^"]+",method="PUT",route="\/v1\/users\/:userId",status="200"\}/);
    assert.match(body, /herald_process_cpu_user_seconds_total/);
    assert.match(body, /herald_subscription_lag_events\{group="delivery-email"\} \d+/);
    assert.match(body, /herald_subscription_in_flight\{group="delivery-email"\} \d+/);
    assert.match(body, /herald_subscription_parked\{group="delivery-email"\} \d+/);
    assert.match(body, /herald_event_store_head_position \d+/);
    assert.match(body, /herald_projection_position\{projection="notifications"\} \d+/);
    assert.match(body, /herald_projection_lag_seconds\{projection="contacts"\} [\d.]+/);
    // The embedded default's files and the space left for them.
    assert.match(body, /herald_data_file_bytes\{file="events.db"\} [1-9]\d*/);
    assert.match(body, /herald_data_file_bytes\{file="read-models.db"\} [1-9]\d*/);
    assert.match(body, /herald_data_dir_free_bytes [1-9]\d*/);
  });

  it('counts a delivery by route, provider and outcome, with its latency', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], category: 'c', content: { email: { subject: 'Hi', text: 'x' } } } });
    assert.equal(res.statusCode, 202);
    const body = await eventually(5000, 'a counted delivery', async () => {
      const text = await scrape();
      return /herald_deliveries_total\{route="email",provider="sandbox",outcome="sent"\} 1/.test(text) ? text : undefined;
    });
    assert.match(body, /herald_delivery_latency_seconds_count\{route="email",provider="sandbox"\} 1/);
  });

  it('/ready reports each check and answers 200 while the stores answer', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/ready' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ready', checks: { eventStore: true, readModels: true, subscriptions: true } });
  });

  it('echoes a plain x-request-id and replaces one that could forge log lines', async () => {
    const kept = await h.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'req-123.abc' } });
    assert.equal(kept.headers['x-request-id'], 'req-123.abc');
    const replaced = await h.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'evil\n{"level":60}' } });
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });
});

describe('/ready with a store down, /metrics behind a token, and redacted logs', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  let h: Harness;
  before(async () => {
    h = await startTestHerald({ HERALD_METRICS_TOKEN: 'metrics-token-0123456789' });
  });
  after(async () => {
    await h.close();
  });

  it('answers 503 not_ready naming the failed check', async () => {
    const { events, readModels } = h.herald;
    // A read-model store whose ping fails, and no keys at all: /ready needs neither a key nor a working store.
    const broken = Object.assign(Object.create(readModels) as typeof readModels, { ping: () => Promise.reject(new Error('down')) });
    const noKeys = { authenticate: () => null, close: async () => undefined } as unknown as ApiKeys;
    const app = await buildApp({ events, readModels: broken, apiKeys: noKeys, now: () => new Date(), ids: { next: () => '0190a0b0-0000-7000-8000-000000000000' }, logger: createLogger('silent'), limits: { maxRecipients: 10, bodyLimitBytes: 4096 } });
    const res = await app.inject({ method: 'GET', url: '/ready' });
    assert.equal(res.statusCode, 503);
    const body = res.json<{ code: string; checks: Record<string, boolean> }>();
    assert.equal(body.code, 'not_ready');
    assert.deepEqual(body.checks, { eventStore: true, readModels: false });
    await app.close();
  });

  it('/metrics needs the metrics token when HERALD_METRICS_TOKEN is set', async () => {
    assert.equal((await h.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
    assert.equal((await h.app.inject({ method: 'GET', url: '/metrics', headers: auth })).statusCode, 401, 'an API key is not the metrics token');
    assert.equal((await h.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789' } })).statusCode, 200);
  });

  it('logs carry the request id and never the authorization header or a device token from the URL', async () => {
    const logger = createLogger('info', sink);
    const { events, readModels } = h.herald;
    const apiKeys = new ApiKeys(events, () => new Date());
    await apiKeys.init(API_KEY);
    const app = await buildApp({ events, readModels, apiKeys, now: () => new Date(), ids: { next: () => '0190a0b0-0000-7000-8000-00000000beef' }, logger, limits: { maxRecipients: 10, bodyLimitBytes: 4096 } });
    const token = 'devicetoken-secret-abcdef0123456789';
    await app.inject({ method: 'DELETE', url: `/v1/users/u-9/devices/${token}`, headers: { ...auth, 'x-request-id': 'trace-42' } });
    const created = await app.inject({ method: 'POST', url: '/v1/apps', headers: { ...auth, 'x-request-id': 'trace-43' }, payload: { name: 'log-test', scopes: ['send'] } });
    assert.equal(created.statusCode, 201, created.body);
    await app.close();
    const text = lines.join('\n');
    const parsed = lines.map((l) => JSON.parse(l) as { reqId?: string; msg?: string; appId?: string });
    assert.ok(parsed.some((l) => l.reqId === 'trace-42'), text);
    // What a handler logs names the calling app as well as the request.
    assert.ok(parsed.some((l) => l.msg === 'app created' && l.reqId === 'trace-43' && l.appId === 'bootstrap'), text);
    // The new app's key id has a field of its own: a second "appKey" in one JSON line would hide the caller's.
    const appCreated = lines.find((l) => l.includes('"app created"')) ?? '';
    assert.equal(appCreated.split('"appKey":').length - 1, 1, appCreated);
    assert.equal((JSON.parse(appCreated) as { createdAppKey?: string }).createdAppKey, created.json<{ appKey: string }>().appKey);
    // So does fastify's own line for the request, once the key was checked.
    assert.ok(parsed.some((l) => l.msg === 'request completed' && l.reqId === 'trace-43' && l.appId === 'bootstrap'), text);
    assert.equal(text.includes(API_KEY), false, 'the key is not logged');
    assert.equal(text.includes(token), false, `the device token is not logged: ${text}`);
  });
});
