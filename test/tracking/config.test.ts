import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/configError.ts';
import { emailAdditions, loadTrackingConfig, publicUrlProblem, twilioSignedUrl, twilioWebhookProblem } from '../../src/tracking/config.ts';

describe('tracking configuration', () => {
  let dir: string;
  const secret = { HERALD_TRACKING_SECRET: 'a'.repeat(32) };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-tracking-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a public URL that is not an absolute http(s) URL, saying what it is for', () => {
    for (const url of ['herald.example.com', 'ftp://herald.example.com']) {
      assert.throws(() => loadTrackingConfig({ ...secret, HERALD_PUBLIC_URL: url }, dir), (error: unknown) => error instanceof ConfigError && /HERALD_PUBLIC_URL: an absolute http\(s\) URL where recipients and providers reach Herald/.test(error.message), url);
    }
    assert.equal(loadTrackingConfig({ ...secret, HERALD_PUBLIC_URL: 'https://herald.example.com/' }, dir).publicUrl, 'https://herald.example.com');
    assert.equal(loadTrackingConfig({ ...secret, HERALD_HOST: '0.0.0.0', HERALD_PORT: '8080' }, dir).publicUrl, 'http://0.0.0.0:8080', 'unset: where Herald listens');
  });

  it('without HERALD_TRACKING_SECRET, generates one secret, kept readable by its owner only, and reads it back', async () => {
    const first = loadTrackingConfig({}, dir).secret;
    assert.equal(first.length, 32);
    assert.deepEqual(loadTrackingConfig({}, dir).secret, first);
    assert.equal((await stat(join(dir, 'tracking-secret'))).mode & 0o777, 0o600);
  });

  it('asks for HERALD_PUBLIC_URL only where real email would carry links to this machine', () => {
    const unset = loadTrackingConfig(secret, dir);
    assert.match(publicUrlProblem(unset, true) ?? '', /^HERALD_PUBLIC_URL is not set, so the click links, open pixel and unsubscribe link in every email sent through SendGrid would point at http:\/\/127\.0\.0\.1:3000/);
    assert.equal(publicUrlProblem(unset, false), undefined, 'the sandbox, or a process that sends no email');
    assert.equal(publicUrlProblem(loadTrackingConfig({ ...secret, HERALD_PUBLIC_URL: 'https://herald.example.com' }, dir), true), undefined);
    assert.equal(publicUrlProblem(loadTrackingConfig({ ...secret, HERALD_EMAIL_TRACKING: 'false', HERALD_LIST_UNSUBSCRIBE: 'false' }, dir), true), undefined, 'no links written');
    assert.match(publicUrlProblem(loadTrackingConfig({ ...secret, HERALD_EMAIL_TRACKING: 'false' }, dir), true) ?? '', /so the unsubscribe link in every email/);
  });

  it('verifies Twilio status callbacks against HERALD_TWILIO_STATUS_CALLBACK_URL as sent to Twilio, query included, and inbound against HERALD_PUBLIC_URL', () => {
    const callback = 'https://hooks.example.net/herald/v1/webhooks/twilio/status?from=twilio';
    const tracking = loadTrackingConfig({ ...secret, HERALD_PUBLIC_URL: 'https://herald.example.com', HERALD_TWILIO_STATUS_CALLBACK_URL: `  ${callback} ` }, dir);
    assert.equal(twilioSignedUrl(tracking, 'status', '/v1/webhooks/twilio/status?from=twilio'), callback);
    assert.equal(twilioSignedUrl(tracking, 'inbound', '/v1/webhooks/twilio/inbound'), 'https://herald.example.com/v1/webhooks/twilio/inbound');
    const noCallback = loadTrackingConfig({ ...secret, HERALD_PUBLIC_URL: 'https://herald.example.com', HERALD_TWILIO_STATUS_CALLBACK_URL: ' ' }, dir);
    assert.equal(twilioSignedUrl(noCallback, 'status', '/v1/webhooks/twilio/status'), 'https://herald.example.com/v1/webhooks/twilio/status', 'blank is unset');
    assert.throws(() => loadTrackingConfig({ ...secret, HERALD_TWILIO_STATUS_CALLBACK_URL: 'herald.example.com/status' }, dir), /HERALD_TWILIO_STATUS_CALLBACK_URL: an absolute http\(s\) URL/);
  });

  it('refuses Twilio webhook verification whose URL Herald cannot know, and a status callback URL that reaches no route', () => {
    const token = { ...secret, HERALD_TWILIO_AUTH_TOKEN: 't'.repeat(32) };
    const callback = { HERALD_TWILIO_STATUS_CALLBACK_URL: 'https://herald.example.com/v1/webhooks/twilio/status' };
    assert.match(twilioWebhookProblem(loadTrackingConfig(token, dir), true) ?? '', /^HERALD_PUBLIC_URL is not set, so Twilio's signatures on STOP and START replies and delivery status callbacks .* checked against http:\/\/127\.0\.0\.1:3000, .* set HERALD_PUBLIC_URL/);
    assert.match(twilioWebhookProblem(loadTrackingConfig({ ...token, ...callback }, dir), true) ?? '', /^HERALD_PUBLIC_URL is not set, so Twilio's signatures on STOP and START replies \(\/v1\/webhooks\/twilio\/inbound\) would/);
    assert.equal(twilioWebhookProblem(loadTrackingConfig({ ...token, ...callback }, dir), false), undefined, 'a worker receives no webhooks');
    assert.equal(twilioWebhookProblem(loadTrackingConfig(secret, dir), true), undefined, 'no Twilio token: the webhooks answer 503, nothing to verify');
    assert.equal(twilioWebhookProblem(loadTrackingConfig({ ...token, ...callback, HERALD_PUBLIC_URL: 'https://herald.example.com' }, dir), true), undefined);
    const wrongPath = loadTrackingConfig({ ...token, HERALD_PUBLIC_URL: 'https://herald.example.com', HERALD_TWILIO_STATUS_CALLBACK_URL: 'https://user:secret-password@herald.example.com/webhooks/twilio' }, dir);
    for (const servesWebhooks of [true, false]) {
      const problem = twilioWebhookProblem(wrongPath, servesWebhooks) ?? '';
      assert.match(problem, /^HERALD_TWILIO_STATUS_CALLBACK_URL has the path \/webhooks\/twilio, so Twilio's delivery status callbacks would reach no route/);
      assert.doesNotMatch(problem, /secret-password/, 'credentials in the URL are not repeated');
    }
  });

  it('turns List-Unsubscribe on by default and off with false, for apps that put their own unsubscribe mechanism in', () => {
    assert.ok(emailAdditions(loadTrackingConfig(secret, dir)).listUnsubscribe);
    assert.equal(emailAdditions(loadTrackingConfig({ ...secret, HERALD_LIST_UNSUBSCRIBE: 'false' }, dir)).listUnsubscribe, undefined);
    assert.throws(() => loadTrackingConfig({ ...secret, HERALD_LIST_UNSUBSCRIBE: 'maybe' }, dir), /HERALD_LIST_UNSUBSCRIBE/);
  });
});
