import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/configError.ts';
import type { DeliveryMessage, DeliveryProvider, DeliveryResult, PushContent } from '../../src/ports/deliveryProvider.ts';
import type { Logger } from '../../src/ports/logger.ts';
import {
  APNS_DEFAULT_TIMEOUT_MS,
  createApnsProvider,
  loadApnsConfig,
  mapApnsFailure,
  type ApnsConfig,
  type ApnsProviderOptions,
} from '../../src/adapters/providers/apns/index.ts';
import { APNS_FAILURES, startFakeApns, type ApnsFailureKind, type FakeApns } from '../fakes/apnsServer.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-apns-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const p8 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const keyFile = join(dir, 'AuthKey_ABCDEF1234.p8');
writeFileSync(keyFile, p8);
const complete = {
  HERALD_APNS_KEY_FILE: keyFile,
  HERALD_APNS_KEY_ID: 'ABCDEF1234',
  HERALD_APNS_TEAM_ID: 'TEAM123456',
  HERALD_APNS_BUNDLE_ID: 'com.example.herald',
};

function recordingLogger(lines: string[] = []): Logger & { lines: string[] } {
  const write = (obj: object, msg?: string): void => void lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  const logger = { debug: write, info: write, warn: write, error: write, child: () => logger, lines };
  return logger;
}

const token = (name: string): string => createHash('sha256').update(name).digest('hex');

function push(to: string, priority: 'high' | 'normal' = 'high'): DeliveryMessage {
  return { notificationId: `n-${to.slice(0, 8)}`, route: 'apns', to, priority, content: { title: 'Hi', body: 'There', data: { orderId: '42' } } };
}

function configFor(fake: FakeApns): ApnsConfig {
  return { ...fake.credentials, production: false };
}
function optionsFor(fake: FakeApns, extra: ApnsProviderOptions = {}): ApnsProviderOptions {
  return { address: fake.address, port: fake.port, ca: [fake.ca], ...extra };
}
const pick = (r: DeliveryResult | undefined): [string, string] | undefined =>
  r && [r.status, r.status === 'sent' ? 'id' : r.reason];

describe('loadApnsConfig', () => {
  it('returns undefined when no HERALD_APNS_* variable is set', () => {
    assert.equal(loadApnsConfig({}), undefined);
    assert.equal(loadApnsConfig({ HERALD_APNS_KEY_ID: ' ' }), undefined);
  });

  it('reads a complete configuration from a .p8 file, defaulting to the sandbox host', () => {
    assert.deepEqual(loadApnsConfig(complete), {
      key: p8, keyId: 'ABCDEF1234', teamId: 'TEAM123456', bundleId: 'com.example.herald', production: false, timeoutMs: APNS_DEFAULT_TIMEOUT_MS,
    });
  });

  it('accepts the key as PEM text with escaped newlines, and production=true', () => {
    const { HERALD_APNS_KEY_FILE: _file, ...rest } = complete;
    const config = loadApnsConfig({ ...rest, HERALD_APNS_KEY: p8.replace(/\n/g, '\\n'), HERALD_APNS_PRODUCTION: 'true' });
    assert.equal(config?.key.trim(), p8.trim());
    assert.equal(config?.production, true);
  });

  const invalid: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['names every missing variable when partly set', { HERALD_APNS_KEY_ID: 'ABCDEF1234', HERALD_APNS_BUNDLE_ID: 'x' }, /HERALD_APNS_KEY_FILE \(or HERALD_APNS_KEY\), HERALD_APNS_TEAM_ID/],
    ['treats HERALD_APNS_PRODUCTION alone as partial', { HERALD_APNS_PRODUCTION: 'true' }, /HERALD_APNS_KEY_ID, HERALD_APNS_TEAM_ID, HERALD_APNS_BUNDLE_ID/],
    ['refuses both key variables', { ...complete, HERALD_APNS_KEY: p8 }, /only one of HERALD_APNS_KEY_FILE and HERALD_APNS_KEY/],
    ['refuses an unreadable key file', { ...complete, HERALD_APNS_KEY_FILE: join(dir, 'missing.p8') }, /HERALD_APNS_KEY_FILE .*cannot be read \(ENOENT\)/],
    ['refuses text that is not a key', { ...complete, HERALD_APNS_KEY_FILE: undefined, HERALD_APNS_KEY: '-----BEGIN PRIVATE KEY-----\nsecretish\n' }, /HERALD_APNS_KEY does not hold a PEM private key/],
    ['refuses a key that is not P-256', { ...complete, HERALD_APNS_KEY_FILE: undefined, HERALD_APNS_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }, /EC P-256/],
    ['refuses a malformed key id', { ...complete, HERALD_APNS_KEY_ID: 'short' }, /HERALD_APNS_KEY_ID must be the 10-character/],
    ['refuses a production flag that is not true/false', { ...complete, HERALD_APNS_PRODUCTION: 'yes' }, /HERALD_APNS_PRODUCTION must be "true" or "false"/],
  ];
  for (const [what, env, message] of invalid) {
    it(`${what} (ConfigError, no key material)`, () => {
      assert.throws(() => loadApnsConfig(env), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, message);
        assert.ok(!err.message.includes('secretish') && !err.message.includes(p8.slice(30, 60)));
        return true;
      });
    });
  }
});

describe('APNs provider against the fake APNs server', () => {
  let fake: FakeApns;
  let provider: DeliveryProvider;
  const logger = recordingLogger();

  before(async () => {
    fake = await startFakeApns();
    provider = createApnsProvider(configFor(fake), logger, optionsFor(fake));
  });
  after(async () => {
    await provider.close();
    await fake.close();
  });

  it('describes itself as the apns provider', () => {
    assert.deepEqual([provider.id, provider.route], ['apns', 'apns']);
    assert.ok(provider.maxBatchSize > 1 && provider.limits.concurrency > 0);
  });

  it('sends a batch with a signed token, topic, push type and priority, returning apns-id per recipient', async () => {
    const tokens = [token('a'), token('b'), token('c')];
    const results = await provider.send([push(tokens[0]!), push(tokens[1]!, 'normal'), push(tokens[2]!)]);
    assert.deepEqual(results.map(pick), [['sent', 'id'], ['sent', 'id'], ['sent', 'id']]);
    for (const [i, t] of tokens.entries()) {
      const request = fake.requests.find((r) => r.token === t);
      assert.ok(request, `request for token ${i}`);
      assert.equal(request.path, `/3/device/${t}`);
      assert.equal(request.headers['apns-topic'], 'com.example.herald');
      assert.equal(request.headers['apns-push-type'], 'alert');
      assert.equal(request.headers['apns-priority'], i === 1 ? '5' : '10');
      assert.match(String(request.headers.authorization), /^bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      assert.deepEqual(request.body, { orderId: '42', aps: { alert: { title: 'Hi', body: 'There' }, sound: 'default' } }, 'the system sound: iOS plays none without aps.sound');
      const result = results[i];
      assert.equal(result?.status === 'sent' && result.providerMessageId, request.headers['apns-id']);
    }
    assert.deepEqual(fake.violations, [], 'the fake verified the JWT signature, kid and team');
  });

  it('passes on the sound, the badge and the collapse id, and no sound when told', async () => {
    const withContent = (to: string, content: PushContent): DeliveryMessage => ({ notificationId: `n-${to.slice(0, 8)}`, route: 'apns', to, content });
    const chime = withContent(token('snd1'), { title: 'Hi', body: 'There', sound: 'chime.caf', badge: 7, collapseKey: 'chat-42' });
    const silent = withContent(token('snd2'), { title: 'Hi', body: 'There', sound: null });
    await provider.send([chime, silent]);
    const sent = (t: string) => fake.requests.find((r) => r.token === token(t))!;
    assert.deepEqual(sent('snd1').body, { aps: { alert: { title: 'Hi', body: 'There' }, sound: 'chime.caf', badge: 7 } });
    assert.equal(sent('snd1').headers['apns-collapse-id'], 'chat-42');
    assert.deepEqual(sent('snd2').body, { aps: { alert: { title: 'Hi', body: 'There' } } });
    assert.equal(sent('snd2').headers['apns-collapse-id'], undefined);
  });

  it('sends a silent push as a background push: content-available only, priority 5 whatever the sender asked, its data and collapse id', async () => {
    const to = token('bg1');
    const results = await provider.send([{ notificationId: 'n-bg1', route: 'apns', to, priority: 'high', content: { silent: true, data: { sync: 'inbox' }, collapseKey: 'sync' } }]);
    assert.equal(results[0]?.status, 'sent');
    const request = fake.requests.find((r) => r.token === to)!;
    assert.equal(request.headers['apns-push-type'], 'background');
    assert.equal(request.headers['apns-priority'], '5', 'Apple refuses priority 10 for a background push');
    assert.equal(request.headers['apns-collapse-id'], 'sync');
    assert.deepEqual(request.body, { sync: 'inbox', aps: { 'content-available': 1 } });
    assert.deepEqual(fake.violations, []);
  });

  it('tells APNs when a push expires (apns-expiration, epoch seconds), and nothing when it does not', async () => {
    const expiresAt = '2026-11-23T12:00:00.000Z';
    await provider.send([{ ...push(token('exp1')), expiresAt }, push(token('exp2'))]);
    assert.equal(fake.requests.find((r) => r.token === token('exp1'))?.headers['apns-expiration'], String(Date.parse(expiresAt) / 1000));
    assert.equal(fake.requests.find((r) => r.token === token('exp2'))?.headers['apns-expiration'], undefined);
  });

  it('keeps the rest of a batch when one token is unregistered', async () => {
    fake.failToken(token('gone'), 'Unregistered');
    const results = await provider.send([push(token('x1')), push(token('gone')), push(token('x2'))]);
    assert.deepEqual(results.map(pick), [['sent', 'id'], ['rejected', 'unregistered_token'], ['sent', 'id']]);
  });

  it('reuses one HTTP/2 connection for every send', async () => {
    await provider.send(Array.from({ length: 50 }, (_, i) => push(token(`many-${i}`))));
    assert.deepEqual(fake.connections(), { total: 1, open: 1 });
  });

  it('leaves retries to us: a 429 or 503 is asked once, not three more times', async () => {
    fake.failToken(token('busy'), 'TooManyRequests');
    fake.failToken(token('down'), 'ServiceUnavailable');
    const results = await provider.send([push(token('busy')), push(token('down'))]);
    assert.deepEqual(results.map(pick), [['failed', 'rate_limited'], ['failed', 'provider_unavailable']]);
    assert.equal(fake.requests.filter((r) => r.token === token('busy') || r.token === token('down')).length, 2);
  });

  it('rejects non-hex tokens and other routes without asking APNs', async () => {
    const before = fake.requests.length;
    const email: DeliveryMessage = { notificationId: 'e', route: 'email', to: 'a@b.co', content: { subject: 's' } };
    const results = await provider.send([push('../../1/apps/x'), email]);
    assert.deepEqual(results.map(pick), [['rejected', 'invalid_token'], ['rejected', 'invalid_content']]);
    assert.equal(fake.requests.length, before);
  });

  it('never logs a device token in full', () => {
    assert.ok(logger.lines.length > 0);
    assert.ok(logger.lines.every((line) => !line.includes(token('gone')) && !line.includes(token('busy'))));
  });
});

describe('APNs error table, row by row, through the real SDK and the fake', () => {
  const expected: Record<ApnsFailureKind, [string, string]> = {
    Unregistered: ['rejected', 'unregistered_token'],
    ExpiredToken: ['rejected', 'unregistered_token'],
    BadDeviceToken: ['rejected', 'invalid_token'],
    DeviceTokenNotForTopic: ['rejected', 'invalid_token'],
    MissingDeviceToken: ['rejected', 'invalid_token'],
    PayloadTooLarge: ['rejected', 'invalid_content'],
    PayloadEmpty: ['rejected', 'invalid_content'],
    BadCollapseId: ['rejected', 'invalid_content'],
    BadExpirationDate: ['rejected', 'invalid_content'],
    BadPriority: ['rejected', 'invalid_content'],
    BadMessageId: ['rejected', 'invalid_content'],
    InvalidPushType: ['rejected', 'invalid_content'],
    BadTopic: ['failed', 'config_bad_topic'],
    MissingTopic: ['failed', 'config_bad_topic'],
    TopicDisallowed: ['failed', 'config_bad_topic'],
    InvalidProviderToken: ['failed', 'config_invalid_provider_token'],
    MissingProviderToken: ['failed', 'config_invalid_provider_token'],
    ExpiredProviderToken: ['failed', 'config_expired_provider_token'],
    BadCertificate: ['failed', 'config_bad_certificate'],
    BadCertificateEnvironment: ['failed', 'config_bad_certificate'],
    Forbidden: ['failed', 'config_forbidden'],
    TooManyRequests: ['failed', 'rate_limited'],
    TooManyProviderTokenUpdates: ['failed', 'rate_limited'],
    InternalServerError: ['failed', 'provider_internal_error'],
    ServiceUnavailable: ['failed', 'provider_unavailable'],
    Shutdown: ['failed', 'provider_unavailable'],
    IdleTimeout: ['failed', 'connection_error'],
    stream_reset: ['failed', 'connection_error'],
  };
  let fake: FakeApns;
  let provider: DeliveryProvider;
  before(async () => {
    fake = await startFakeApns();
    provider = createApnsProvider(configFor(fake), recordingLogger(), optionsFor(fake));
    // Proven configuration: APNs has accepted a token, so token refusals are about the tokens.
    assert.equal((await provider.send([push(token('proof'))]))[0]?.status, 'sent');
  });
  after(async () => {
    await provider.close();
    await fake.close();
  });

  it('has a fake answer for every row', () => {
    assert.deepEqual([...Object.keys(APNS_FAILURES), 'stream_reset'].sort(), Object.keys(expected).sort());
  });
  // One send per row: node-apn drops its connection after a 500, which would turn other answers
  // still in flight into connection errors.
  for (const [kind, result] of Object.entries(expected) as [ApnsFailureKind, [string, string]][]) {
    it(`maps ${kind} to ${result.join(' ')}`, async () => {
      fake.failToken(token(kind), kind);
      const [r] = await provider.send([push(token(kind))]);
      assert.deepEqual(pick(r), result);
      assert.equal(r?.status === 'failed' ? r.retryAfterMs : undefined, undefined);
    });
  }
});

describe('APNs transport failures and lifecycle', () => {
  it('maps a request timeout to failed timeout', async () => {
    const fake = await startFakeApns();
    const provider = createApnsProvider({ ...configFor(fake), timeoutMs: 150 }, recordingLogger(), optionsFor(fake));
    fake.delay(600);
    assert.deepEqual(pick((await provider.send([push(token('slow'))]))[0]), ['failed', 'timeout']);
    await provider.close();
    await fake.close();
  });

  it('maps a refused connection to failed connection_error for every message', async () => {
    const fake = await startFakeApns();
    await fake.close();
    const provider = createApnsProvider({ ...configFor(fake), timeoutMs: 200 }, recordingLogger(), optionsFor(fake));
    const results = await provider.send([push(token('r1')), push(token('r2'))]);
    assert.deepEqual(results.map(pick), [['failed', 'connection_error'], ['failed', 'connection_error']]);
    await provider.close();
  });

  it('close() shuts the connection down; sending afterwards rejects', async () => {
    const fake = await startFakeApns();
    const provider = createApnsProvider(configFor(fake), recordingLogger(), optionsFor(fake));
    await provider.send([push(token('once'))]);
    assert.equal(fake.connections().open, 1);
    await Promise.all([provider.close(), provider.close()]);
    for (let i = 0; i < 50 && fake.connections().open > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(fake.connections(), { total: 1, open: 0 });
    await assert.rejects(provider.send([push(token('after'))]), /closed/);
    await fake.close();
  });
});

describe('mapApnsFailure, shapes node-apn produces', () => {
  it('reads the reason from the error when node-apn rewrote it (403 ExpiredProviderToken)', () => {
    assert.deepEqual(pick(mapApnsFailure({ status: 403, error: new Error('ExpiredProviderToken') })), ['failed', 'config_expired_provider_token']);
  });
  it('falls back on the status for unknown reasons', () => {
    assert.deepEqual(pick(mapApnsFailure({ status: 410, response: { reason: 'Gone' } })), ['rejected', 'unregistered_token']);
    assert.deepEqual(pick(mapApnsFailure({ status: 502, response: { reason: 'BadGateway' } })), ['failed', 'provider_unavailable']);
    assert.deepEqual(pick(mapApnsFailure({ status: 400, response: { reason: 'Novel' } })), ['failed', 'unknown_error']);
  });
  it('treats answers without a status as transport failures', () => {
    assert.deepEqual(pick(mapApnsFailure({ error: new Error('apn write timeout') })), ['failed', 'timeout']);
    assert.deepEqual(pick(mapApnsFailure({})), ['failed', 'connection_error']);
  });
});

describe('APNs provider when the connection is lost', () => {
  it('fails the pushes in flight at once, and reconnects for the next send', async () => {
    const fake = await startFakeApns();
    const provider = createApnsProvider(configFor(fake), recordingLogger(), optionsFor(fake));
    try {
      fake.delay(2_000);
      const started = Date.now();
      const drop = setTimeout(() => fake.dropConnections(), 100);
      const lost = await provider.send([push(token('lost-1')), push(token('lost-2'))]).finally(() => clearTimeout(drop));
      fake.delay(0);
      assert.deepEqual(lost.map(pick), [['failed', 'connection_error'], ['failed', 'connection_error']]);
      assert.ok(Date.now() - started < 1_500, `settled after ${Date.now() - started} ms, not after the answers' delay`);
      assert.deepEqual((await provider.send([push(token('after-drop'))])).map(pick), [['sent', 'id']]);
    } finally {
      await provider.close();
      await fake.close();
    }
  });
});

describe('APNs refusing tokens before it has accepted any from this configuration (a wrong environment or bundle id)', () => {
  it('keeps the tokens: the refusals are transient (retried), said once; once a token is accepted they are rejections again', async () => {
    const fake = await startFakeApns();
    const logger = recordingLogger();
    const provider = createApnsProvider(configFor(fake), logger, optionsFor(fake));
    try {
      fake.failToken(token('dev-1'), 'BadDeviceToken');
      fake.failToken(token('dev-2'), 'DeviceTokenNotForTopic');
      const first = await provider.send([push(token('dev-1')), push(token('dev-2'))]);
      assert.deepEqual(first.map(pick), [['failed', 'token_refused_unproven_config'], ['failed', 'token_refused_unproven_config']]);
      assert.deepEqual((await provider.send([push(token('dev-1'))])).map(pick), [['failed', 'token_refused_unproven_config']]);
      const said = logger.lines.filter((l) => l.startsWith('APNs refuses device tokens'));
      assert.equal(said.length, 1, 'one error line, not one per send');
      assert.match(said[0]!, /check HERALD_APNS_PRODUCTION \(sandbox now/);
      // A batch where APNs accepts one token proves the configuration, refusals in it included.
      fake.failToken(token('bad-1'), 'BadDeviceToken');
      const mixed = await provider.send([push(token('ok-1')), push(token('bad-1'))]);
      assert.deepEqual(mixed.map(pick), [['sent', 'id'], ['rejected', 'invalid_token']]);
      assert.deepEqual((await provider.send([push(token('dev-1'))])).map(pick), [['rejected', 'invalid_token']]);
      assert.ok(logger.lines.every((l) => !l.includes(token('dev-1'))), 'tokens masked');
    } finally {
      await provider.close();
      await fake.close();
    }
  });
});
