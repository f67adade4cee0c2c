import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConfigError } from '../../src/configError.ts';
import type { DeliveryMessage, DeliveryProvider, DeliveryResult } from '../../src/ports/deliveryProvider.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { createTwilioProvider, loadTwilioConfig, type TwilioConfig } from '../../src/adapters/providers/twilio/index.ts';
import { twilioErrorToResult } from '../../src/adapters/providers/twilio/errors.ts';
import { validityOf } from '../../src/adapters/providers/twilio/provider.ts';
import { parseRetryAfter } from '../../src/adapters/providers/retryAfter.ts';
import { startFakeTwilio, type FakeTwilio, type TwilioFailureKind } from '../fakes/twilioServer.ts';
import { eventually } from '../support/wait.ts';

const ACCOUNT_SID = `AC${'a'.repeat(32)}`;
const AUTH_TOKEN = 'f'.repeat(32);
const API_KEY = `SK${'b'.repeat(32)}`;
const API_SECRET = 'super-secret-api-secret-value';
const MSS = `MG${'c'.repeat(32)}`;
const FROM = '+15005550006';

/** Records every log line so tests can prove no phone number leaks. */
function captureLogger(lines: string[] = []): Logger & { lines: string[] } {
  const write = (obj: object, msg?: string) => void lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  const logger = { lines, debug: write, info: write, warn: write, error: write, child: () => logger };
  return logger;
}

const sms = (to: string, n = 1): DeliveryMessage => ({
  notificationId: `ntf-${n}`,
  route: 'sms',
  to,
  content: { body: `Your code is ${1000 + n}` },
});

void describe('loadTwilioConfig', () => {
  void it('returns undefined when no HERALD_TWILIO_* variable is set, so the channel can use the sandbox', () => {
    assert.equal(loadTwilioConfig({ PATH: '/bin', HERALD_TWILIO_FROM: '  ' }), undefined);
  });

  void it('throws a ConfigError naming the missing credential and sender when only the SID is set', () => {
    assert.throws(() => loadTwilioConfig({ HERALD_TWILIO_ACCOUNT_SID: ACCOUNT_SID }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /HERALD_TWILIO_AUTH_TOKEN/);
      assert.match(error.message, /sandbox/);
      return true;
    });
    const noSender = { HERALD_TWILIO_ACCOUNT_SID: ACCOUNT_SID, HERALD_TWILIO_AUTH_TOKEN: AUTH_TOKEN };
    assert.throws(() => loadTwilioConfig(noSender), /HERALD_TWILIO_MESSAGING_SERVICE_SID or HERALD_TWILIO_FROM/);
    const badRate = { ...noSender, HERALD_TWILIO_FROM: FROM, HERALD_TWILIO_RATE_PER_SECOND: 'fast' };
    assert.throws(() => loadTwilioConfig(badRate), /HERALD_TWILIO_RATE_PER_SECOND must be a positive number/);
  });

  void it('names the missing half of an API key pair and never echoes a secret', () => {
    const env = { HERALD_TWILIO_ACCOUNT_SID: ACCOUNT_SID, HERALD_TWILIO_API_SECRET: API_SECRET, HERALD_TWILIO_FROM: FROM };
    assert.throws(() => loadTwilioConfig(env), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /HERALD_TWILIO_API_KEY is missing/);
      assert.ok(!error.message.includes(API_SECRET));
      return true;
    });
  });

  void it('rejects a malformed sender or SID, and a token plus an API key at once', () => {
    const base = { HERALD_TWILIO_ACCOUNT_SID: ACCOUNT_SID, HERALD_TWILIO_AUTH_TOKEN: AUTH_TOKEN };
    assert.throws(() => loadTwilioConfig({ ...base, HERALD_TWILIO_FROM: '555-0006' }), /HERALD_TWILIO_FROM must be/);
    assert.throws(
      () => loadTwilioConfig({ ...base, HERALD_TWILIO_FROM: FROM, HERALD_TWILIO_ACCOUNT_SID: 'AC123' }),
      /HERALD_TWILIO_ACCOUNT_SID must be/,
    );
    assert.throws(
      () => loadTwilioConfig({ ...base, HERALD_TWILIO_FROM: FROM, HERALD_TWILIO_API_KEY: API_KEY }),
      /not both/,
    );
  });

  void it('loads a full auth-token configuration with a 1/s rate for a single number', () => {
    const config = loadTwilioConfig({
      HERALD_TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      HERALD_TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      HERALD_TWILIO_FROM: FROM,
      HERALD_TWILIO_STATUS_CALLBACK_URL: 'https://herald.example/webhooks/twilio',
    });
    assert.deepEqual(config, {
      accountSid: ACCOUNT_SID,
      auth: { kind: 'authToken', authToken: AUTH_TOKEN },
      sender: { kind: 'from', from: FROM },
      statusCallbackUrl: 'https://herald.example/webhooks/twilio',
      baseUrl: undefined,
      ratePerSecond: 1,
      timeoutMs: 10_000,
    });
  });

  void it('loads API-key auth with a messaging service, whose default rate is higher, and honours a rate override', () => {
    const env = {
      HERALD_TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      HERALD_TWILIO_API_KEY: API_KEY,
      HERALD_TWILIO_API_SECRET: API_SECRET,
      HERALD_TWILIO_MESSAGING_SERVICE_SID: MSS,
    };
    const config = loadTwilioConfig(env);
    assert.deepEqual(config?.auth, { kind: 'apiKey', apiKey: API_KEY, apiSecret: API_SECRET });
    assert.deepEqual(config?.sender, { kind: 'messagingService', sid: MSS });
    assert.equal(config?.ratePerSecond, 10);
    assert.equal(loadTwilioConfig({ ...env, HERALD_TWILIO_RATE_PER_SECOND: '25' })?.ratePerSecond, 25);
  });
});

void describe('twilio provider against the fake Twilio', () => {
  let fake: FakeTwilio;
  let provider: DeliveryProvider;
  const logger = captureLogger();
  const config = (): TwilioConfig => ({
    accountSid: ACCOUNT_SID,
    auth: { kind: 'authToken', authToken: AUTH_TOKEN },
    sender: { kind: 'from', from: FROM },
    statusCallbackUrl: 'https://herald.example/webhooks/twilio',
    baseUrl: fake.baseUrl,
    ratePerSecond: 1,
    timeoutMs: 300,
  });

  before(async () => {
    fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, password: AUTH_TOKEN });
    provider = createTwilioProvider(config(), logger);
  });
  after(async () => {
    await provider.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.setDelay(0);
  });

  void it('describes itself as the SMS route with batches of one and rate limits', () => {
    assert.equal(provider.id, 'twilio');
    assert.equal(provider.route, 'sms');
    assert.equal(provider.maxBatchSize, 1);
    assert.deepEqual(provider.limits, { concurrency: 10, ratePerSecond: 1 });
  });

  void it('sends through the real SDK and returns the message SID; the fake saw auth, path and form body', async () => {
    const [result] = await provider.send([sms('+14155550100')]);
    assert.equal(result?.status, 'sent');
    assert.match((result as { providerMessageId: string }).providerMessageId, /^SM[0-9a-f]{32}$/);
    assert.deepEqual(fake.requests[0], {
      accountSid: ACCOUNT_SID,
      to: '+14155550100',
      body: 'Your code is 1001',
      from: FROM,
      messagingServiceSid: undefined,
      statusCallback: 'https://herald.example/webhooks/twilio',
      validityPeriod: undefined,
      sid: (result as { providerMessageId: string }).providerMessageId,
      answeredStatus: 201,
    });
  });

  void it('asks Twilio to drop an SMS still queued when it expires (ValidityPeriod), only when that is sooner than its default', async () => {
    const before = fake.requests.length;
    const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
    await provider.send([{ ...sms('+14155550120'), expiresAt: inMinutes(10) }, { ...sms('+14155550121'), expiresAt: inMinutes(24 * 60) }]);
    const seen = fake.requests.slice(before);
    assert.match(seen.find((r) => r.to === '+14155550120')?.validityPeriod ?? '', /^(599|600)$/);
    assert.equal(seen.find((r) => r.to === '+14155550121')?.validityPeriod, undefined, 'a day away: Twilio\'s default (10 hours) is sooner');
    assert.deepEqual(validityOf(inMinutes(-1)), { validityPeriod: 1 }, 'past due: the least Twilio takes');
  });

  void it('authenticates with an API key and sends from a messaging service', async () => {
    const keyFake = await startFakeTwilio({ accountSid: ACCOUNT_SID, username: API_KEY, password: API_SECRET });
    const keyed = createTwilioProvider(
      { ...config(), auth: { kind: 'apiKey', apiKey: API_KEY, apiSecret: API_SECRET }, sender: { kind: 'messagingService', sid: MSS }, baseUrl: keyFake.baseUrl },
      logger,
    );
    try {
      const [result] = await keyed.send([sms('+14155550101')]);
      assert.equal(result?.status, 'sent');
      assert.equal(keyFake.requests[0]?.messagingServiceSid, MSS);
      assert.equal(keyFake.requests[0]?.from, undefined);
    } finally {
      await keyed.close();
      await keyFake.close();
    }
  });

  void it('returns one result per message, in order, for a mixed batch', async () => {
    fake.failRecipient('+14155550102', 'invalid_number');
    const results = await provider.send([sms('+14155550103', 1), sms('+14155550102', 2), sms('+14155550104', 3)]);
    assert.deepEqual(results.map((r) => r.status), ['sent', 'rejected', 'sent']);
    assert.equal((results[1] as { reason: string }).reason, 'invalid_address');
  });

  const table: [TwilioFailureKind, Partial<DeliveryResult>][] = [
    ['invalid_number', { status: 'rejected', reason: 'invalid_address' }],
    ['not_mobile', { status: 'rejected', reason: 'invalid_address' }],
    ['unsubscribed', { status: 'rejected', reason: 'unsubscribed' }],
    ['cannot_route', { status: 'rejected', reason: 'blocked' }],
    ['region_disabled', { status: 'rejected', reason: 'blocked' }],
    ['queue_full', { status: 'failed', reason: 'queue_full' }],
    ['rate_limited', { status: 'failed', reason: 'rate_limited', retryAfterMs: 3000 }],
    ['auth', { status: 'failed', reason: 'auth_failed' }],
    ['server_error', { status: 'failed', reason: 'provider_unavailable' }],
    ['maintenance', { status: 'failed', reason: 'provider_unavailable', retryAfterMs: 3000 }],
    ['reset', { status: 'failed', reason: 'network' }],
  ];
  for (const [kind, expected] of table) {
    void it(`maps the fake's ${kind} answer to ${expected.status} ${(expected as { reason: string }).reason}`, async () => {
      fake.failRecipient('+14155550199', kind, { retryAfterSeconds: 3, times: 1 });
      const [result] = await provider.send([sms('+14155550199')]);
      assert.deepEqual(summary(result), expected);
    });
  }

  void it('reports a timeout as failed when Twilio answers too slowly', async () => {
    fake.setDelay(1_000);
    const [result] = await provider.send([sms('+14155550105')]);
    assert.deepEqual(summary(result), { status: 'failed', reason: 'timeout' });
  });

  void it('sends on a new connection, once, after Twilio closed the idle kept-alive one', async () => {
    const closing = await startFakeTwilio({ accountSid: ACCOUNT_SID, password: AUTH_TOKEN, idleTimeoutMs: 100 });
    const pooled = createTwilioProvider({ ...config(), baseUrl: closing.baseUrl }, logger);
    try {
      assert.equal((await pooled.send([sms('+14155550107', 1)]))[0]?.status, 'sent');
      await eventually(2_000, 'the fake to close the idle connection', () => (closing.connections().open === 0 ? true : undefined));
      assert.equal((await pooled.send([sms('+14155550108', 2)]))[0]?.status, 'sent');
      assert.deepEqual(closing.requests.map((r) => [r.to, r.answeredStatus]), [['+14155550107', 201], ['+14155550108', 201]], 'each message reached Twilio once');
      assert.equal(closing.connections().total, 2);
    } finally {
      await pooled.close();
      await closing.close();
    }
  });

  void it('reports refused connections as failed network errors', async () => {
    const gone = await startFakeTwilio({ accountSid: ACCOUNT_SID, password: AUTH_TOKEN });
    await gone.close();
    const offline = createTwilioProvider({ ...config(), baseUrl: gone.baseUrl }, logger);
    const [result] = await offline.send([sms('+14155550106')]);
    await offline.close();
    assert.deepEqual(result, { status: 'failed', reason: 'network', detail: 'ECONNREFUSED' });
  });

  void it('fails with auth_failed, naming the variables, when the fake refuses the credentials', async () => {
    const wrong = createTwilioProvider({ ...config(), auth: { kind: 'authToken', authToken: 'e'.repeat(32) } }, logger);
    const [result] = await wrong.send([sms('+14155550107')]);
    await wrong.close();
    assert.equal(result?.status, 'failed');
    assert.equal((result as { reason: string }).reason, 'auth_failed');
    assert.match((result as { detail: string }).detail, /HERALD_TWILIO_ACCOUNT_SID/);
  });

  void it('keeps the Retry-After of concurrent sends apart', async () => {
    fake.failRecipient('+14155550110', 'rate_limited', { retryAfterSeconds: 7 });
    fake.failRecipient('+14155550111', 'rate_limited', { retryAfterSeconds: 2 });
    fake.setDelay(30);
    const [slow, fast] = await Promise.all([provider.send([sms('+14155550110')]), provider.send([sms('+14155550111')])]);
    assert.equal((slow[0] as { retryAfterMs: number }).retryAfterMs, 7000);
    assert.equal((fast[0] as { retryAfterMs: number }).retryAfterMs, 2000);
  });

  void it('never logs a phone number unmasked', () => {
    assert.ok(logger.lines.length > 0);
    for (const line of logger.lines) assert.doesNotMatch(line, /\+1415555\d{4}/);
  });
});

void describe('twilio error table edges', () => {
  void it('treats an unknown 4xx code as a transient provider_error rather than losing the message', () => {
    assert.deepEqual(twilioErrorToResult({ status: 400, code: 29999 }), {
      status: 'failed',
      reason: 'provider_error',
      detail: 'HTTP 400, Twilio code 29999',
    });
  });

  void it('maps a bare HTTP 429 without a Twilio code to rate_limited', () => {
    assert.equal(twilioErrorToResult({ status: 429 }, 1500).status, 'failed');
    assert.equal((twilioErrorToResult({ status: 429 }, 1500) as { retryAfterMs: number }).retryAfterMs, 1500);
  });

  void it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('4', now), 4000);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});

/** Status, reason and retry-after only: `detail` is prose for operators. */
function summary(result: DeliveryResult | undefined): Partial<DeliveryResult> {
  if (result?.status !== 'failed' || result.retryAfterMs === undefined) {
    return { status: result?.status, reason: (result as { reason?: string } | undefined)?.reason } as Partial<DeliveryResult>;
  }
  return { status: result.status, reason: result.reason, retryAfterMs: result.retryAfterMs };
}
