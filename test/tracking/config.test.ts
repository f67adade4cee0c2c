import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/configError.ts';
import { emailAdditions, loadTrackingConfig, publicUrlProblem } from '../../src/tracking/config.ts';

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

  it('turns List-Unsubscribe on by default and off with false, for apps that put their own unsubscribe mechanism in', () => {
    assert.ok(emailAdditions(loadTrackingConfig(secret, dir)).listUnsubscribe);
    assert.equal(emailAdditions(loadTrackingConfig({ ...secret, HERALD_LIST_UNSUBSCRIBE: 'false' }, dir)).listUnsubscribe, undefined);
    assert.throws(() => loadTrackingConfig({ ...secret, HERALD_LIST_UNSUBSCRIBE: 'maybe' }, dir), /HERALD_LIST_UNSUBSCRIBE/);
  });
});
