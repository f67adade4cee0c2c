import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConfigError } from '../../src/configError.ts';
import type { DeliveryMessage, DeliveryProvider, DeliveryResult, EmailContent } from '../../src/ports/deliveryProvider.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { createSendgridProvider, loadSendgridConfig, type SendgridConfig } from '../../src/adapters/providers/sendgrid/index.ts';
import { invalidPersonalizations, retryAfter } from '../../src/adapters/providers/sendgrid/errors.ts';
import { startFakeSendgrid, type FakeSendgrid, type SendgridFailureKind } from '../fakes/sendgridServer.ts';

const API_KEY = 'SG.test-key.abcdefghijklmnopqrstuvwxyz';

function captureLogger(lines: string[] = []): Logger & { lines: string[] } {
  const write = (obj: object, msg?: string) => void lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  const logger = { lines, debug: write, info: write, warn: write, error: write, child: () => logger };
  return logger;
}

const WELCOME: EmailContent = { subject: 'Welcome', text: 'Hello there', html: '<p>Hello there</p>' };
let counter = 0;
const email = (to: string, content: EmailContent = WELCOME): DeliveryMessage => ({
  notificationId: `ntf-${++counter}`,
  route: 'email',
  to,
  content,
});

/** Status, reason and retry-after only: `detail` is prose for operators. */
function summary(result: DeliveryResult | undefined): { status?: string; reason?: string; retryAfterMs?: number } {
  if (result?.status === 'sent') return { status: 'sent' };
  const base = { status: result?.status, reason: result?.reason };
  return result?.status === 'failed' && result.retryAfterMs !== undefined ? { ...base, retryAfterMs: result.retryAfterMs } : base;
}

void describe('loadSendgridConfig', () => {
  void it('returns undefined when no HERALD_SENDGRID_* variable is set, so the channel can use the sandbox', () => {
    assert.equal(loadSendgridConfig({ HOME: '/root' }), undefined);
  });

  void it('throws a ConfigError naming the missing sender, without echoing the key', () => {
    assert.throws(() => loadSendgridConfig({ HERALD_SENDGRID_API_KEY: API_KEY }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /HERALD_SENDGRID_FROM is missing/);
      assert.match(error.message, /sandbox/);
      assert.ok(!error.message.includes(API_KEY));
      return true;
    });
  });

  void it('rejects a key that is not a SendGrid key and a malformed sender', () => {
    const env = { HERALD_SENDGRID_API_KEY: 'not-a-sendgrid-key-at-all', HERALD_SENDGRID_FROM: 'Herald <nobody>' };
    assert.throws(() => loadSendgridConfig(env), /HERALD_SENDGRID_API_KEY must be.*HERALD_SENDGRID_FROM must be/);
  });

  void it('loads a full configuration, parsing "Name <addr>" senders', () => {
    const config = loadSendgridConfig({
      HERALD_SENDGRID_API_KEY: API_KEY,
      HERALD_SENDGRID_FROM: 'Herald <news@herald.example>',
      HERALD_SENDGRID_REPLY_TO: 'support@herald.example',
      HERALD_SENDGRID_BASE_URL: 'http://127.0.0.1:9999',
    });
    assert.deepEqual(config, {
      apiKey: API_KEY,
      from: { email: 'news@herald.example', name: 'Herald' },
      replyTo: { email: 'support@herald.example' },
      baseUrl: 'http://127.0.0.1:9999',
      timeoutMs: 10_000,
    });
  });
});

void describe('sendgrid provider against the fake SendGrid', () => {
  let fake: FakeSendgrid;
  let provider: DeliveryProvider;
  const logger = captureLogger();
  const config = (): SendgridConfig => ({
    apiKey: API_KEY,
    from: { email: 'news@herald.example', name: 'Herald' },
    replyTo: { email: 'support@herald.example' },
    baseUrl: fake.baseUrl,
    timeoutMs: 300,
  });

  before(async () => {
    fake = await startFakeSendgrid({ apiKey: API_KEY });
    provider = createSendgridProvider(config(), logger);
  });
  after(async () => {
    await provider.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.setDelay(0);
  });

  void it('describes itself as the email route with batches of 1,000', () => {
    assert.deepEqual([provider.id, provider.route, provider.maxBatchSize], ['sendgrid', 'email', 1000]);
    assert.ok(provider.limits.concurrency > 0);
  });

  void it('sends identical content as one request with a personalization and custom_args per recipient', async () => {
    const messages = [email('ann@example.com'), email('bob@example.com'), email('cy@example.com')];
    const results = await provider.send(messages);
    assert.equal(fake.requests.length, 1);
    const { body, messageId } = fake.requests[0]!;
    assert.deepEqual(results, messages.map(() => ({ status: 'sent', providerMessageId: messageId })));
    assert.deepEqual(body.personalizations, messages.map((m) => ({ to: [{ email: m.to }], custom_args: { notificationId: m.notificationId } })));
    assert.deepEqual(body.from, { email: 'news@herald.example', name: 'Herald' });
    assert.deepEqual(body.reply_to, { email: 'support@herald.example' });
    assert.deepEqual(body.categories, ['herald']);
    assert.equal(body.subject, 'Welcome');
    assert.deepEqual(body.content.map((c) => c.type), ['text/plain', 'text/html']);
  });

  void it('splits by content, by the 1,000 cap and by repeated addresses', async () => {
    const other: EmailContent = { subject: 'Receipt', text: 'Thanks' };
    const many = Array.from({ length: 1001 }, (_, i) => email(`user${i}@example.com`));
    const results = await provider.send([...many, email('ann@example.com', other), email('ann@example.com', other)]);
    assert.ok(results.every((r) => r.status === 'sent'));
    assert.deepEqual(fake.requests.map((r) => r.body.personalizations.length).sort((a, b) => a - b), [1, 1, 1, 1000]);
  });

  void it('rejects only the bad address of a batch and resends the good ones once', async () => {
    fake.failRecipient('bad@example.com', 'invalid_address');
    const results = await provider.send([email('ann@example.com'), email('bad@example.com'), email('bob@example.com')]);
    assert.deepEqual(results.map(summary), [{ status: 'sent' }, { status: 'rejected', reason: 'invalid_address' }, { status: 'sent' }]);
    assert.deepEqual(fake.requests.map((r) => r.answeredStatus), [400, 202]);
  });

  void it('falls back to one request per recipient when the 400 does not name the bad address', async () => {
    fake.failRecipient('anon@example.com', 'invalid_address', { withoutField: true });
    const results = await provider.send([email('ann@example.com'), email('anon@example.com'), email('bob@example.com')]);
    assert.deepEqual(results.map(summary), [{ status: 'sent' }, { status: 'rejected', reason: 'invalid_address' }, { status: 'sent' }]);
    assert.equal(fake.requests.length, 4);
  });

  void it('never rejects a good recipient for someone else\'s address when the retry is refused too', async () => {
    const strict = await startFakeSendgrid({ apiKey: API_KEY, firstAddressErrorOnly: true });
    const p = createSendgridProvider({ ...config(), baseUrl: strict.baseUrl }, logger);
    strict.failRecipient('bad1@example.com', 'invalid_address');
    strict.failRecipient('bad2@example.com', 'invalid_address');
    const results = await p.send([email('bad1@example.com'), email('ok@example.com'), email('bad2@example.com')]);
    await p.close();
    await strict.close();
    assert.deepEqual(results.map(summary), [
      { status: 'rejected', reason: 'invalid_address' },
      { status: 'failed', reason: 'batch_rejected' },
      { status: 'rejected', reason: 'invalid_address' },
    ]);
  });

  const table: [SendgridFailureKind, ReturnType<typeof summary>][] = [
    ['invalid_address', { status: 'rejected', reason: 'invalid_address' }],
    ['invalid_content', { status: 'rejected', reason: 'invalid_content' }],
    ['unauthorized', { status: 'failed', reason: 'auth_failed' }],
    ['forbidden', { status: 'failed', reason: 'forbidden' }],
    ['too_large', { status: 'rejected', reason: 'invalid_content' }],
    ['rate_limited', { status: 'failed', reason: 'rate_limited', retryAfterMs: 3000 }],
    ['server_error', { status: 'failed', reason: 'provider_unavailable' }],
    ['reset', { status: 'failed', reason: 'network' }],
  ];
  for (const [kind, expected] of table) {
    void it(`maps the fake's ${kind} answer to ${expected.status} ${expected.reason}`, async () => {
      fake.failRecipient('row@example.com', kind, { retryAfterSeconds: 3, times: 1 });
      const results = await provider.send([email('row@example.com'), email('row-mate@example.com')]);
      const single = kind === 'invalid_address' ? results.slice(0, 1) : results;
      for (const result of single) assert.deepEqual(summary(result), expected);
    });
  }

  void it('derives retryAfterMs from X-RateLimit-Reset when there is no Retry-After', async () => {
    fake.failRecipient('reset@example.com', 'rate_limited_reset', { retryAfterSeconds: 5, times: 1 });
    const [result] = await provider.send([email('reset@example.com')]);
    assert.equal(summary(result).reason, 'rate_limited');
    const ms = (result as { retryAfterMs: number }).retryAfterMs;
    assert.ok(ms > 3000 && ms <= 6000, `retryAfterMs ${ms}`);
  });

  void it('reports a timeout as failed when SendGrid answers too slowly', async () => {
    fake.setDelay(1_000);
    const [result] = await provider.send([email('slow@example.com')]);
    assert.deepEqual(summary(result), { status: 'failed', reason: 'timeout' });
  });

  void it('reports refused connections as failed network errors', async () => {
    const gone = await startFakeSendgrid({ apiKey: API_KEY });
    await gone.close();
    const offline = createSendgridProvider({ ...config(), baseUrl: gone.baseUrl }, logger);
    const [result] = await offline.send([email('ann@example.com')]);
    await offline.close();
    assert.deepEqual(result, { status: 'failed', reason: 'network', detail: 'ECONNREFUSED' });
  });

  void it('fails with auth_failed when the fake refuses the key', async () => {
    const wrong = createSendgridProvider({ ...config(), apiKey: 'SG.wrong-key.0000000000000000' }, logger);
    const [result] = await wrong.send([email('ann@example.com')]);
    await wrong.close();
    assert.deepEqual(summary(result), { status: 'failed', reason: 'auth_failed' });
    assert.match((result as { detail: string }).detail, /HERALD_SENDGRID_API_KEY/);
  });

  void it('rejects an email without text or html locally, without a request', async () => {
    const [result] = await provider.send([email('ann@example.com', { subject: 'Empty' })]);
    assert.deepEqual(summary(result), { status: 'rejected', reason: 'invalid_content' });
    assert.equal(fake.requests.length, 0);
  });

  void it('never logs an email address unmasked', () => {
    assert.ok(logger.lines.length > 0);
    for (const line of logger.lines) assert.doesNotMatch(line, /[a-z0-9]+@(example|herald)\.(com|example)/);
  });
});

void describe('sendgrid error helpers', () => {
  void it('reads the personalization indexes a 400 names', () => {
    const error = { code: 400, response: { headers: {}, body: { errors: [{ field: 'personalizations.2.to.0.email' }, { field: 'subject' }] } } };
    assert.deepEqual(invalidPersonalizations(error), [2]);
    assert.deepEqual(invalidPersonalizations({ code: 500, response: { headers: {}, body: {} } }), []);
  });

  void it('prefers Retry-After, then X-RateLimit-Reset in Unix seconds', () => {
    const now = 1_700_000_000_000;
    assert.equal(retryAfter({ 'retry-after': '2', 'x-ratelimit-reset': '1700000060' }, now), 2000);
    assert.equal(retryAfter({ 'x-ratelimit-reset': '1700000060' }, now), 60_000);
    assert.equal(retryAfter({}, now), undefined);
  });
});
