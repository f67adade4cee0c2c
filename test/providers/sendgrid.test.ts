import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConfigError } from '../../src/configError.ts';
import type { DeliveryMessage, DeliveryProvider, DeliveryResult, EmailContent } from '../../src/ports/deliveryProvider.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { createSendgridProvider, loadSendgridConfig, type SendgridConfig } from '../../src/adapters/providers/sendgrid/index.ts';
import { invalidPersonalizations, retryAfter } from '../../src/adapters/providers/sendgrid/errors.ts';
import { MAX_SUBSTITUTION_BYTES, planRequests, substitutionBytes, type EmailMessage } from '../../src/adapters/providers/sendgrid/batching.ts';
import { withEmailTracking } from '../../src/tracking/emailTracking.ts';
import { eventually } from '../support/wait.ts';
import { verifyLinkToken } from '../../src/tracking/linkToken.ts';
import { listUnsubscribeHeaders } from '../../src/tracking/listUnsubscribe.ts';
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

const tracking = { secret: randomBytes(32), publicUrl: 'https://herald.test' };
const NEWS: EmailContent = { subject: 'News', text: 'Read it', html: '<body><p><a href="https://example.com/story">Story</a></p></body>' };
/** An email as the delivery processor makes it with tracking on: tagged content plus its own URLs. */
const tracked = (to: string, content: EmailContent = NEWS): EmailMessage => {
  const notificationId = `ntf-${++counter}`;
  return { notificationId, route: 'email', to, ...withEmailTracking(content, notificationId, tracking) };
};
/** What each signed URL in the HTML stands for, in order. */
const signedIn = (html: string | undefined) =>
  [...(html ?? '').matchAll(/"https:\/\/herald\.test\/t\/[oc]\/([^"]+)"/g)].map((m) => verifyLinkToken(tracking.secret, m[1]!));

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
    // Room for a loaded CI machine: at 300 ms ordinary sends of this suite timed out under load.
    timeoutMs: 5_000,
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
    ['maintenance', { status: 'failed', reason: 'provider_unavailable', retryAfterMs: 3000 }],
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
    const impatient = createSendgridProvider({ ...config(), timeoutMs: 300 }, logger);
    try {
      const [result] = await impatient.send([email('slow@example.com')]);
      assert.deepEqual(summary(result), { status: 'failed', reason: 'timeout' });
    } finally {
      await impatient.close();
    }
  });

  void it('sends on a new connection, once, after SendGrid closed the idle kept-alive one', async () => {
    const closing = await startFakeSendgrid({ apiKey: API_KEY, idleTimeoutMs: 100 });
    const pooled = createSendgridProvider({ ...config(), baseUrl: closing.baseUrl }, logger);
    try {
      assert.equal((await pooled.send([email('ann@example.com')]))[0]?.status, 'sent');
      await eventually(2_000, 'the fake to close the idle connection', () => (closing.connections().open === 0 ? true : undefined));
      assert.equal((await pooled.send([email('bob@example.com')]))[0]?.status, 'sent');
      assert.equal(closing.requests.length, 2, 'each email reached SendGrid once');
      assert.equal(closing.connections().total, 2);
    } finally {
      await pooled.close();
      await closing.close();
    }
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

  void it('sends tracked emails of the same content as one request, each recipient getting its own signed URLs', async () => {
    const messages = Array.from({ length: 25 }, (_, i) => tracked(`reader${i}@example.com`));
    const results = await provider.send(messages);
    assert.ok(results.every((r) => r.status === 'sent'));
    assert.equal(fake.requests.length, 1);
    const { body, mails } = fake.requests[0]!;
    assert.equal(body.personalizations.length, 25);
    assert.match(body.content.find((c) => c.type === 'text/html')?.value ?? '', /href="\[\[herald:c0\]\]".*src="\[\[herald:o\]\]"/);
    assert.equal(mails?.length, 25);
    messages.forEach((m, i) => {
      const mail = mails?.[i];
      assert.ok(mail);
      assert.deepEqual([mail.to, mail.notificationId], [m.to, m.notificationId]);
      assert.doesNotMatch(mail.html ?? '', /\[\[herald:/);
      assert.deepEqual(signedIn(mail.html), [
        { kind: 'click', notificationId: m.notificationId, url: 'https://example.com/story' },
        { kind: 'open', notificationId: m.notificationId },
      ]);
    });
  });

  void it('delivers a body that contains the tag text as written, with its own signed URLs, one request each', async () => {
    const literal: EmailContent = { subject: 'Tags', html: '<p>Type [[herald:o]] here</p><a href="https://example.com/x">x</a>' };
    const messages = [tracked('tag1@example.com', literal), tracked('tag2@example.com', literal)];
    const results = await provider.send(messages);
    assert.ok(results.every((r) => r.status === 'sent'));
    assert.equal(fake.requests.length, 2);
    for (const [i, m] of messages.entries()) {
      const { body, mails } = fake.requests.find((r) => r.body.personalizations[0]?.custom_args?.notificationId === m.notificationId)!;
      assert.equal(body.personalizations[0]?.substitutions, undefined, `request ${i}`);
      assert.match(mails?.[0]?.html ?? '', /^<p>Type \[\[herald:o\]\] here<\/p>/);
      assert.deepEqual(signedIn(mails?.[0]?.html).map((t) => t?.notificationId), [m.notificationId, m.notificationId]);
    }
  });

  void it(`sends an email whose substitutions exceed ${MAX_SUBSTITUTION_BYTES} bytes in a request of its own, URLs written in`, async () => {
    const links = Array.from({ length: 30 }, (_, i) => `<a href="https://example.com/${i}/${'long-path-segment/'.repeat(15)}">${i}</a>`);
    const heavy: EmailContent = { subject: 'Digest', html: `<body>${links.join('')}</body>` };
    const big = [tracked('big1@example.com', heavy), tracked('big2@example.com', heavy)];
    assert.ok(big.every((m) => substitutionBytes(m.substitutions ?? {}) > MAX_SUBSTITUTION_BYTES));
    const small = [tracked('small1@example.com'), tracked('small2@example.com')];
    const results = await provider.send([big[0]!, small[0]!, big[1]!, small[1]!]);
    assert.ok(results.every((r) => r.status === 'sent'));
    assert.deepEqual(fake.requests.map((r) => r.body.personalizations.length).sort(), [1, 1, 2]);
    for (const m of big) {
      const { body, mails } = fake.requests.find((r) => r.body.personalizations[0]?.custom_args?.notificationId === m.notificationId)!;
      assert.equal(body.personalizations[0]?.substitutions, undefined);
      const signed = signedIn(mails?.[0]?.html);
      assert.equal(signed.length, 31);
      assert.ok(signed.every((t) => t?.notificationId === m.notificationId));
    }
  });

  void it('sends each recipient its own List-Unsubscribe headers, still one request for one content', async () => {
    const messages = ['ann', 'bob', 'cy'].map((name) => {
      const m = tracked(`${name}@example.com`);
      return { ...m, headers: listUnsubscribeHeaders(tracking, { notificationId: m.notificationId, channel: 'email', transactional: false })! };
    });
    const plain = tracked('dee@example.com');
    const results = await provider.send([...messages, plain]);
    assert.ok(results.every((r) => r.status === 'sent'));
    assert.equal(fake.requests.length, 1);
    const mails = fake.requests[0]!.mails ?? [];
    for (const m of messages) {
      const mail = mails.find((x) => x.notificationId === m.notificationId)!;
      assert.equal(mail.headers['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click');
      const link = /^<https:\/\/herald\.test\/t\/u\/([^>]+)>$/.exec(mail.headers['List-Unsubscribe'] ?? '');
      assert.ok(link, mail.headers['List-Unsubscribe']);
      assert.deepEqual(verifyLinkToken(tracking.secret, link[1]!), { kind: 'unsubscribe', notificationId: m.notificationId });
    }
    assert.deepEqual(mails.find((x) => x.notificationId === plain.notificationId)?.headers, {});
  });

  /** A mail/send request straight to the fake, with one personalization carrying `extra`. */
  const postToFake = (extra: Record<string, unknown>) =>
    fetch(`${fake.baseUrl}/v3/mail/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: { email: 'news@herald.example' }, subject: 's', content: [{ type: 'text/plain', value: 'x' }], personalizations: [{ to: [{ email: 'ann@example.com' }], ...extra }] }),
    });
  const fields = async (res: Response) => [res.status, ((await res.json()) as { errors: { field: string }[] }).errors[0]?.field];

  void it('is refused by the fake, as by SendGrid, with headers it sets itself or values that are not strings', async () => {
    const post = (headers: unknown) => postToFake({ headers });
    assert.deepEqual(await fields(await post({ Subject: 'x' })), [400, 'personalizations.0.headers']);
    assert.deepEqual(await fields(await post({ 'List-Unsubscribe': 1 })), [400, 'personalizations.0.headers']);
    assert.equal((await post({ 'List-Unsubscribe': '<https://herald.test/t/u/x>' })).status, 202);
  });

  void it('is refused by the fake, as by SendGrid, with substitutions over the limit or not strings', async () => {
    const post = (substitutions: unknown) => postToFake({ substitutions });
    assert.deepEqual(await fields(await post({ '[[t]]': 'x'.repeat(MAX_SUBSTITUTION_BYTES) })), [400, 'personalizations.0.substitutions']);
    assert.deepEqual(await fields(await post({ '[[t]]': 1 })), [400, 'personalizations.0.substitutions']);
    assert.equal((await post({ '[[t]]': 'x'.repeat(MAX_SUBSTITUTION_BYTES - 5) })).status, 202);
  });

  void it('never logs an email address unmasked', () => {
    assert.ok(logger.lines.length > 0);
    for (const line of logger.lines) assert.doesNotMatch(line, /[a-z0-9]+@(example|herald)\.(com|example)/);
  });
});

void describe('sendgrid request planning', () => {
  const withBytes = (n: number): EmailMessage => ({ notificationId: `ntf-${++counter}`, route: 'email', to: `p${counter}@example.com`, content: { subject: '[[t]]' }, substitutions: { '[[t]]': 'x'.repeat(n - 5) } });

  void it(`passes substitutions of up to ${MAX_SUBSTITUTION_BYTES} bytes on, and applies larger ones itself`, () => {
    const [fits, over] = [withBytes(MAX_SUBSTITUTION_BYTES), withBytes(MAX_SUBSTITUTION_BYTES + 1)];
    const plans = planRequests([fits, over].map((message, index) => ({ index, message })));
    assert.deepEqual(plans.map((p) => [p.content.subject.length, p.recipients.map((r) => r.substitutions !== undefined)]), [
      [5, [true]],
      [MAX_SUBSTITUTION_BYTES - 4, [false]],
    ]);
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
