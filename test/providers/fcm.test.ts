import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/configError.ts';
import type { DeliveryMessage, DeliveryProvider, DeliveryResult } from '../../src/ports/deliveryProvider.ts';
import type { Logger } from '../../src/ports/logger.ts';
import {
  FCM_DEFAULT_MAX_SOCKETS,
  FCM_QUOTA_RETRY_AFTER_MS,
  createFcmProvider,
  loadFcmConfig,
  mapFcmError,
  type FcmConfig,
  type FcmTransport,
} from '../../src/adapters/providers/fcm/index.ts';
import { FCM_FAILURES, FakeRouteAgent, startFakeFcm, type FakeFcm, type FcmFailureKind } from '../fakes/fcmServer.ts';
import { eventually } from '../support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-fcm-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

function writeFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function serviceAccount(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: 'herald-test',
    client_email: 'herald@herald-test.iam.gserviceaccount.com',
    private_key: privateKey,
    ...overrides,
  });
}

function recordingLogger(lines: string[] = []): Logger & { lines: string[] } {
  const write = (obj: object, msg?: string): void => void lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  const logger = { debug: write, info: write, warn: write, error: write, child: () => logger, lines };
  return logger;
}

const token = (name: string): string => `${name}-token-${'x'.repeat(140)}`;

function push(to: string, extra: Partial<DeliveryMessage> = {}): DeliveryMessage {
  return {
    notificationId: `n-${to.slice(0, 12)}`,
    route: 'fcm',
    to,
    priority: 'high',
    content: { title: 'Hello', body: 'World', data: { orderId: '42' } },
    ...extra,
  } as DeliveryMessage;
}

const TRANSPORTS: readonly FcmTransport[] = ['http1', 'http2'];

/** A provider on `transport`, talking to `fake`: http1 through the fake's agent, http2 through the SDK's own connect, rerouted. */
function providerOn(transport: FcmTransport, fake: FakeFcm, config: FcmConfig, logger: Logger): { provider: DeliveryProvider; unroute: () => void } {
  const unroute = transport === 'http2' ? fake.routeHttp2() : () => undefined;
  const provider = createFcmProvider({ ...config, transport }, logger, { credential: fake.credential, ...(transport === 'http1' ? { httpAgent: fake.httpAgent } : {}) });
  return { provider, unroute };
}

describe('loadFcmConfig', () => {
  it('returns undefined when HERALD_FCM_CREDENTIALS is unset or blank', () => {
    assert.equal(loadFcmConfig({}), undefined);
    assert.equal(loadFcmConfig({ HERALD_FCM_CREDENTIALS: '  ' }), undefined);
  });

  it('reads project id, client email and key from the service-account file', () => {
    const config = loadFcmConfig({ HERALD_FCM_CREDENTIALS: writeFile('ok.json', serviceAccount()) });
    assert.equal(config?.projectId, 'herald-test');
    assert.equal(config?.clientEmail, 'herald@herald-test.iam.gserviceaccount.com');
    assert.equal(config?.privateKey, privateKey);
    assert.deepEqual([config?.transport, config?.maxSockets], ['http1', FCM_DEFAULT_MAX_SOCKETS]);
  });

  it('takes the transport and the http1 pool size from HERALD_FCM_TRANSPORT and HERALD_FCM_MAX_SOCKETS', () => {
    const config = loadFcmConfig({ HERALD_FCM_CREDENTIALS: writeFile('t.json', serviceAccount()), HERALD_FCM_TRANSPORT: 'http2', HERALD_FCM_MAX_SOCKETS: '32' });
    assert.deepEqual([config?.transport, config?.maxSockets], ['http2', 32]);
  });

  for (const [name, value, hint] of [['HERALD_FCM_TRANSPORT', 'h2', /use http1 .* or http2/], ['HERALD_FCM_MAX_SOCKETS', '0', /whole number of connections from 1 to 10000/], ['HERALD_FCM_MAX_SOCKETS', 'many', /whole number/]] as const) {
    it(`refuses ${name}=${value} with a ConfigError saying what to set, with or without credentials`, () => {
      for (const credentials of [{}, { HERALD_FCM_CREDENTIALS: writeFile('c.json', serviceAccount()) }]) {
        assert.throws(() => loadFcmConfig({ ...credentials, [name]: value }), (err: unknown) => err instanceof ConfigError && err.message.includes(name) && hint.test(err.message));
      }
    });
  }

  const broken: [string, string | undefined][] = [
    ['a missing file', undefined],
    ['a file that is not JSON', `{"private_key": "${privateKey.slice(0, 60)}`],
    ['a file without client_email', serviceAccount({ client_email: undefined })],
    ['a private key that does not parse', serviceAccount({ private_key: '-----BEGIN PRIVATE KEY-----\nnot-a-key\n' })],
  ];
  for (const [what, content] of broken) {
    it(`throws a ConfigError naming the variable for ${what}, without the key`, () => {
      const path = content === undefined ? join(dir, 'nope.json') : writeFile(`${what}.json`, content);
      assert.throws(
        () => loadFcmConfig({ HERALD_FCM_CREDENTIALS: path }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message.includes('HERALD_FCM_CREDENTIALS') &&
          err.message.includes('Firebase console') &&
          !err.message.includes('BEGIN') &&
          !err.message.includes(privateKey.slice(40, 80)),
      );
    });
  }
});

for (const transport of TRANSPORTS) describe(`FCM provider against the fake FCM server (${transport})`, () => {
  let fake: FakeFcm;
  let provider: DeliveryProvider;
  let unroute: () => void;
  let config: FcmConfig;
  const logger = recordingLogger();

  before(async () => {
    fake = await startFakeFcm();
    config = loadFcmConfig({ HERALD_FCM_CREDENTIALS: writeFile('sa.json', serviceAccount()) })!;
    ({ provider, unroute } = providerOn(transport, fake, config, logger));
  });
  after(async () => {
    await provider.close();
    unroute();
    await fake.close();
  });

  it(transport === 'http1' ? 'speaks HTTP/1.1 and reuses its connections from call to call' : 'speaks HTTP/2, over one new connection per sendEach call (the SDK\'s own way)', async () => {
    const [requests, connections] = [fake.requests.length, fake.connections().total];
    for (let call = 0; call < 3; call += 1) {
      const results = await provider.send(Array.from({ length: 4 }, (_, i) => push(token(`conn-${call}-${i}`))));
      assert.ok(results.every((r) => r.status === 'sent'));
    }
    assert.deepEqual(new Set(fake.requests.slice(requests).map((r) => r.httpVersion)), new Set([transport === 'http1' ? '1.1' : '2.0']));
    const opened = fake.connections().total - connections;
    if (transport === 'http2') assert.equal(opened, 3);
    else assert.ok(opened <= 4, `${opened} new connections for 3 calls of 4 messages after the first calls`);
  });

  it('describes itself as the fcm provider with batches of 500', () => {
    assert.deepEqual([provider.id, provider.route, provider.maxBatchSize], ['fcm', 'fcm', 500]);
    assert.ok(provider.limits.concurrency > 0);
  });

  it('sends a batch and returns the provider message id per recipient, in order', async () => {
    const before = fake.requests.length;
    const tokens = [token('ok-a'), token('ok-b'), token('ok-c')];
    const results = await provider.send(tokens.map((t) => push(t)));
    assert.equal(results.length, 3);
    for (const r of results) {
      assert.equal(r.status, 'sent');
      assert.match(r.status === 'sent' ? r.providerMessageId : '', /^projects\/herald-test\/messages\/\d+$/);
    }
    const seen = fake.requests.slice(before);
    assert.deepEqual(seen.map((r) => r.token).sort(), [...tokens].sort());
    for (const request of seen) {
      assert.equal(request.path, '/v1/projects/herald-test/messages:send');
      assert.equal(request.authorization, `Bearer ${fake.accessToken}`);
      assert.deepEqual((request.body as { message: unknown }).message, {
        token: request.token,
        notification: { title: 'Hello', body: 'World' },
        data: { orderId: '42' },
        android: { notification: { default_sound: true }, priority: 'high' },
        webpush: { headers: { Urgency: 'high' } },
      });
    }
    assert.deepEqual(fake.violations, []);
  });

  it('passes on the sound, the badge, the collapse key (tag, collapse key, web push Topic) and the web push link, and no sound when told', async () => {
    const before = fake.requests.length;
    const options = [{ sound: 'chime.wav', badge: 3, collapseKey: 'chat-42', link: 'https://shop.example/chat/42' }, { sound: null, collapseKey: 'has space, no topic' }];
    const results = await provider.send(options.map((extra, i): DeliveryMessage => ({ notificationId: `n-opt-${i}`, route: 'fcm', to: token(`opt-${i}`), priority: 'high', content: { title: 'Hello', body: 'World', ...extra } })));
    assert.ok(results.every((r) => r.status === 'sent'));
    const message = (i: number) => (fake.requests.slice(before).find((r) => r.token === token(`opt-${i}`))?.body as { message: Record<string, unknown> }).message;
    assert.deepEqual(message(0).android, { notification: { sound: 'chime.wav', notification_count: 3, tag: 'chat-42' }, collapse_key: 'chat-42', priority: 'high' });
    assert.deepEqual(message(0).webpush, { headers: { Topic: 'chat-42', Urgency: 'high' }, fcmOptions: { link: 'https://shop.example/chat/42' } }, 'the SDK sends fcmOptions as written; FCM reads both spellings (proto3 JSON)');
    assert.deepEqual(message(1).android, { notification: { tag: 'has space, no topic' }, collapse_key: 'has space, no topic', priority: 'high' });
    assert.deepEqual(message(1).webpush, { headers: { Urgency: 'high' } });
    assert.deepEqual(fake.violations, []);
  });

  it('sends a silent push as a data message: no notification block, its data and collapse key', async () => {
    const before = fake.requests.length;
    const results = await provider.send([{ notificationId: 'n-data', route: 'fcm', to: token('data'), priority: 'high', content: { silent: true, data: { sync: 'inbox' }, collapseKey: 'sync' } }]);
    assert.equal(results[0]?.status, 'sent');
    const message = (fake.requests.slice(before).find((r) => r.token === token('data'))?.body as { message: Record<string, unknown> }).message;
    assert.deepEqual(message, { token: token('data'), data: { sync: 'inbox' }, android: { collapse_key: 'sync', priority: 'high' }, webpush: { headers: { Topic: 'sync', Urgency: 'high' } } });
    assert.deepEqual(fake.violations, []);
  });

  it('gives FCM and the browser push service the time to live left until the notification expires', async () => {
    const before = fake.requests.length;
    const results = await provider.send([push(token('ttl'), { expiresAt: new Date(Date.now() + 3_600_000).toISOString() })]);
    assert.equal(results[0]?.status, 'sent');
    const message = (fake.requests[before]?.body as { message: { android: { ttl: string }; webpush: { headers: { TTL: string } } } }).message;
    assert.match(message.android.ttl, /^(3599|3600)(\.\d+)?s$/, 'android.ttl as a protobuf Duration');
    assert.match(message.webpush.headers.TTL, /^(3599|3600)$/);
    assert.deepEqual(fake.violations, []);
  });

  if (transport === 'http2') {
    // firebase-admin 13.10: when FCM closes the connection of an HTTP/2 call mid-call, the call
    // never settles. The provider bounds it, so the worker gets its slot back and retries.
    it('fails a call whose connection is lost mid-call as timeout once its bound passes, instead of hanging', async () => {
      const bounded = createFcmProvider({ ...config, transport, timeoutMs: 1_000 }, logger, { credential: fake.credential });
      try {
        fake.dropConnectionOn(token('drop'), 150);
        const started = Date.now();
        const results = await bounded.send([push(token('kept-1')), push(token('drop')), push(token('kept-2'))]);
        assert.deepEqual(results.map((r) => (r.status === 'failed' ? r.reason : r.status)), ['timeout', 'timeout', 'timeout']);
        assert.ok(Date.now() - started < 5_000, `settled after ${Date.now() - started} ms`);
        assert.ok(logger.lines.some((l) => l.includes('did not settle')), 'the lost call is logged');
      } finally {
        await bounded.close();
      }
    });
  }

  it('keeps the rest of a batch when one token is unregistered', async () => {
    fake.failToken(token('gone'), 'unregistered');
    const results = await provider.send([push(token('ok-1')), push(token('gone')), push(token('ok-2'))]);
    assert.deepEqual(results.map((r) => r.status), ['sent', 'rejected', 'sent']);
    assert.equal(results[1]?.status === 'rejected' && results[1].reason, 'unregistered_token');
  });

  it('splits more than 500 messages into several sendEach calls', async () => {
    const results = await provider.send(Array.from({ length: 501 }, (_, i) => push(token(`bulk-${i}`))));
    assert.equal(results.length, 501);
    assert.ok(results.every((r) => r.status === 'sent'));
  });

  it('sends the messages of a batch concurrently', async () => {
    fake.delay(300);
    const started = Date.now();
    const results = await provider.send(Array.from({ length: 10 }, (_, i) => push(token(`slow-${i}`))));
    fake.delay(0);
    const elapsed = Date.now() - started;
    assert.ok(results.every((r) => r.status === 'sent'));
    assert.ok(elapsed >= 300 && elapsed < 3 * 300, `took ${elapsed} ms`);
  });

  it('rejects what it can tell without asking FCM, and asks FCM for the rest', async () => {
    const before = fake.requests.length;
    const sms: DeliveryMessage = { notificationId: 'n-sms', route: 'sms', to: '+15550001111', content: { body: 'x' } };
    const results = await provider.send([push(''), sms, push(token('fine'))]);
    assert.deepEqual(results.slice(0, 2), [
      { status: 'rejected', reason: 'invalid_token', detail: 'empty token' },
      { status: 'rejected', reason: 'invalid_content', detail: 'route sms sent to fcm' },
    ]);
    assert.equal(results[2]?.status, 'sent');
    assert.equal(fake.requests.length - before, 1);
  });

  it('never logs a device token in full', () => {
    assert.ok(logger.lines.length > 0);
    assert.ok(logger.lines.every((line) => !line.includes('x'.repeat(40))));
  });
});

for (const transport of TRANSPORTS) describe(`FCM error table, row by row, through the real SDK and the fake (${transport})`, () => {
  const expected: Record<FcmFailureKind, (r: DeliveryResult) => void> = {
    unregistered: (r) => assert.deepEqual(pick(r), ['rejected', 'unregistered_token']),
    invalid_token: (r) => assert.deepEqual(pick(r), ['rejected', 'invalid_token']),
    invalid_registration: (r) => assert.deepEqual(pick(r), ['rejected', 'invalid_token']),
    invalid_argument: (r) => assert.deepEqual(pick(r), ['rejected', 'invalid_content']),
    sender_id_mismatch: (r) => assert.deepEqual(pick(r), ['failed', 'config_mismatched_credential']),
    third_party_auth: (r) => assert.deepEqual(pick(r), ['failed', 'config_third_party_auth']),
    quota_exceeded: (r) => {
      assert.deepEqual(pick(r), ['failed', 'rate_limited']);
      assert.equal(r.status === 'failed' && r.retryAfterMs, FCM_QUOTA_RETRY_AFTER_MS);
    },
    unavailable: (r) => assert.deepEqual(pick(r), ['failed', 'provider_unavailable']),
    internal: (r) => assert.deepEqual(pick(r), ['failed', 'provider_internal_error']),
    connection_reset: (r) => assert.deepEqual(pick(r), ['failed', 'connection_error']),
  };
  const kinds = Object.keys(expected) as FcmFailureKind[];
  let fake: FakeFcm;
  let provider: DeliveryProvider;
  let unroute: () => void;
  let results: DeliveryResult[] = [];

  // One batch carries every row plus a good token, so the SDK's own back-off on 503 and
  // connection resets (about 7 s) is paid once.
  before(async () => {
    fake = await startFakeFcm();
    for (const kind of kinds) fake.failToken(token(kind), kind, kind === 'quota_exceeded' ? { retryAfterSeconds: 30 } : {});
    const config = { projectId: fake.projectId, clientEmail: 'e@x.iam.gserviceaccount.com', privateKey };
    ({ provider, unroute } = providerOn(transport, fake, config, recordingLogger()));
    results = await provider.send([...kinds.map((k) => push(token(k))), push(token('good'))]);
  });
  after(async () => {
    await provider.close();
    unroute();
    await fake.close();
  });

  it('has a fake answer for every wire error', () => {
    assert.deepEqual([...Object.keys(FCM_FAILURES), 'connection_reset'].sort(), [...kinds].sort());
  });
  kinds.forEach((kind, i) => {
    it(`maps ${kind} to its result`, () => expected[kind](results[i]!));
  });
  it('still delivers the good token in the same batch', () => {
    assert.equal(results[kinds.length]?.status, 'sent');
  });
  // The SDK retries a 503 (1 + 4 attempts, about 7 s) on both transports, a connection reset on
  // HTTP/1.1 only: a reset HTTP/2 stream comes back after one attempt. Herald's retry policy takes
  // over from there either way.
  const resets = transport === 'http1' ? 5 : 1;
  it(`leaves retries of 503s${transport === 'http1' ? ' and resets' : ''} to the SDK (1 + 4 attempts), none for the rest`, () => {
    const attempts = (kind: string): number => fake.requests.filter((r) => r.token === token(kind)).length;
    assert.deepEqual([attempts('unavailable'), attempts('connection_reset'), attempts('quota_exceeded')], [5, resets, 1]);
  });
});

function pick(r: DeliveryResult): [string, string] {
  return [r.status, r.status === 'sent' ? r.providerMessageId : r.reason];
}

describe('mapFcmError, the table itself', () => {
  const rows: [string, string, [string, string]][] = [
    ['messaging/registration-token-not-registered', '', ['rejected', 'unregistered_token']],
    ['messaging/invalid-registration-token', '', ['rejected', 'invalid_token']],
    ['messaging/invalid-recipient', '', ['rejected', 'invalid_token']],
    ['messaging/invalid-argument', 'The registration token is not a valid FCM registration token', ['rejected', 'invalid_token']],
    ['messaging/invalid-argument', "Invalid value at 'message.data'", ['rejected', 'invalid_content']],
    ['messaging/invalid-payload', '', ['rejected', 'invalid_content']],
    ['messaging/invalid-data-payload-key', '', ['rejected', 'invalid_content']],
    ['messaging/payload-size-limit-exceeded', '', ['rejected', 'invalid_content']],
    ['messaging/invalid-options', '', ['rejected', 'invalid_content']],
    ['messaging/mismatched-credential', '', ['failed', 'config_mismatched_credential']],
    ['messaging/third-party-auth-error', '', ['failed', 'config_third_party_auth']],
    ['messaging/authentication-error', '', ['failed', 'config_authentication']],
    ['app/invalid-credential', '', ['failed', 'config_invalid_credential']],
    ['messaging/message-rate-exceeded', '', ['failed', 'rate_limited']],
    ['messaging/device-message-rate-exceeded', '', ['failed', 'rate_limited']],
    ['messaging/topics-message-rate-exceeded', '', ['failed', 'rate_limited']],
    ['messaging/server-unavailable', '', ['failed', 'provider_unavailable']],
    ['messaging/internal-error', '', ['failed', 'provider_internal_error']],
    ['app/network-timeout', 'timeout of 15000ms exceeded', ['failed', 'timeout']],
    ['app/network-error', 'Error code: ECONNRESET', ['failed', 'connection_error']],
    ['messaging/unknown-error', '', ['failed', 'unknown_error']],
  ];
  for (const [code, message, result] of rows) {
    it(`${code}${message ? ` (${message})` : ''} → ${result.join(' ')}`, () => {
      assert.deepEqual(pick(mapFcmError({ code, message })), result);
    });
  }

  it('gives rate limits a retry-after and nothing else one', () => {
    for (const [code] of rows) {
      const r = mapFcmError({ code });
      const expectsDelay = code.endsWith('rate-exceeded');
      assert.equal(r.status === 'failed' ? r.retryAfterMs : undefined, expectsDelay ? FCM_QUOTA_RETRY_AFTER_MS : undefined);
    }
  });

  it('treats anything without a known code as transient', () => {
    assert.deepEqual(pick(mapFcmError(new Error('boom'))), ['failed', 'unknown_error']);
    assert.deepEqual(pick(mapFcmError('weird')), ['failed', 'unknown_error']);
  });
});

// firebase-admin's HTTP/1.1 client takes no timeout or retry configuration from us: it waits out
// each 503's Retry-After (up to 60 s) four times over. The provider bounds the whole call.
describe('FCM over http1 during an outage: one call is bounded like on http2', () => {
  let fake: FakeFcm;
  const logger = recordingLogger();
  const config = () => ({ projectId: fake.projectId, clientEmail: 'e@x.iam.gserviceaccount.com', privateKey, transport: 'http1' as const });
  const attempts = (t: string): number => fake.requests.filter((r) => r.token === t).length;
  before(async () => {
    fake = await startFakeFcm();
  });
  after(() => fake.close());

  it('fails a call still waiting out a 503\'s Retry-After as timeout, with that Retry-After, sends nothing more for it, and sends the next call', async () => {
    const provider = createFcmProvider({ ...config(), timeoutMs: 300 }, logger, { credential: fake.credential, httpAgent: fake.httpAgent });
    try {
      fake.failToken(token('outage'), 'unavailable', { retryAfterSeconds: 1 });
      const results = await provider.send([push(token('outage'))]);
      assert.deepEqual(results.map((r) => (r.status === 'failed' ? [r.reason, r.retryAfterMs] : [r.status])), [['timeout', 1_000]]);
      assert.ok(logger.lines.some((l) => l.includes('did not settle in time')), 'the bounded call is logged');
      // The SDK's retry was due 1 s after the 503: past it, the given-up call has sent no second attempt.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(attempts(token('outage')), 1);
      const [next] = await provider.send([push(token('after-outage'))]);
      assert.equal(next?.status, 'sent', 'the next call goes through a new pool');
    } finally {
      await provider.close();
    }
  });

  it('cuts the request of a call FCM never answers once the bound passes, and fails it as timeout', async () => {
    // A pool of its own, so the fake's count of open connections is this call's.
    const agent = new FakeRouteAgent(fake.port, fake.ca);
    const provider = createFcmProvider({ ...config(), timeoutMs: 300 }, logger, { credential: fake.credential, httpAgent: agent });
    const open = fake.connections().open;
    try {
      fake.delay(600_000);
      const results = await provider.send([push(token('stalled'))]);
      assert.deepEqual(results.map((r) => (r.status === 'failed' ? r.reason : r.status)), ['timeout']);
      await eventually(5_000, 'the stalled request\'s connection to close', () => (fake.connections().open === open ? true : undefined));
      assert.equal(attempts(token('stalled')), 1);
    } finally {
      fake.delay(0);
      await provider.close();
      agent.destroy();
    }
  });

  it('passes on a Retry-After longer than the SDK waits (60 s), which it gives up on at once', async () => {
    const provider = createFcmProvider({ ...config(), timeoutMs: 5_000 }, logger, { credential: fake.credential, httpAgent: fake.httpAgent });
    try {
      fake.failToken(token('long-wait'), 'unavailable', { retryAfterSeconds: 120 });
      const [result] = await provider.send([push(token('long-wait'))]);
      assert.deepEqual(result?.status === 'failed' ? [result.reason, result.retryAfterMs] : [result?.status], ['provider_unavailable', 120_000]);
      assert.equal(attempts(token('long-wait')), 1);
    } finally {
      await provider.close();
    }
  });
});

describe('FCM provider lifecycle', () => {
  it('close() deletes the firebase app once; sending afterwards rejects', async () => {
    const fake = await startFakeFcm();
    const config = { projectId: fake.projectId, clientEmail: 'e@x.iam.gserviceaccount.com', privateKey };
    const provider = createFcmProvider(config, recordingLogger(), { credential: fake.credential, httpAgent: fake.httpAgent });
    assert.equal((await provider.send([push(token('once'))]))[0]?.status, 'sent');
    await Promise.all([provider.close(), provider.close()]);
    await assert.rejects(provider.send([push(token('after'))]), /closed/);
    await fake.close();
  });

  it('two providers with the same credentials coexist (distinct app names)', async () => {
    const config = { projectId: 'p', clientEmail: 'e@x.iam.gserviceaccount.com', privateKey };
    const a = createFcmProvider(config, recordingLogger());
    const b = createFcmProvider(config, recordingLogger());
    await Promise.all([a.close(), b.close()]);
  });
});
